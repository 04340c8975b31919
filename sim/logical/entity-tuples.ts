// How each entity record reads as relation tuples (the schema is in relations.ts). Owns this mapping
// only. Each function depends on its one record alone, so the change tracker can diff an entity's
// tuples before and after a call without looking at anything else.

import type { AclRecord, RouterPortRecord, RouterRecord, StaticRouteRecord, SwitchPortRecord, SwitchRecord } from './entities.ts';
import type { Fact } from './relations.ts';

export function switchFacts(s: SwitchRecord): Fact[] {
  const out: Fact[] = [{ relation: 'logical_switch', tuple: { dp: s.dp, name: s.name, tenant: s.tenant } }];
  if (s.subnet !== undefined) out.push({ relation: 'logical_switch_subnet', tuple: { dp: s.dp, subnet_addr: s.subnet.addr, subnet_len: s.subnet.len } });
  return out;
}

export function routerFacts(r: RouterRecord): Fact[] {
  return [{ relation: 'logical_router', tuple: { dp: r.dp, name: r.name, tenant: r.tenant } }];
}

export function switchPortFacts(p: SwitchPortRecord): Fact[] {
  const { dp, port } = p;
  const out: Fact[] = [{ relation: 'logical_switch_port', tuple: { dp, port, name: p.name, type: p.type } }];
  if (p.peer !== undefined) out.push({ relation: 'logical_switch_port_peer', tuple: { dp, port, peer_dp: p.peer.dp, peer_port: p.peer.port } });
  for (const e of p.addresses) {
    out.push({ relation: 'port_address_mac', tuple: { dp, port, mac: e.mac } });
    for (const ip of e.ips) out.push({ relation: 'port_address_ip', tuple: { dp, port, mac: e.mac, ip } });
  }
  if (p.unknown) out.push({ relation: 'port_address_unknown', tuple: { dp, port } });
  out.push({ relation: 'port_security', tuple: { dp, port, enabled: p.portSecurity.length > 0 ? 1 : 0 } });
  for (const e of p.portSecurity) {
    out.push({ relation: 'port_security_mac', tuple: { dp, port, mac: e.mac, ip_restricted: e.ips.length > 0 ? 1 : 0 } });
    for (const ip of e.ips) out.push({ relation: 'port_security_ip', tuple: { dp, port, mac: e.mac, ip_addr: ip.addr, ip_len: ip.len } });
  }
  if (p.vifId !== undefined) out.push({ relation: 'port_binding_request', tuple: { dp, port, vif_id: p.vifId } });
  if (p.type === 'localnet') out.push({ relation: 'localnet_port', tuple: { dp, port, network: p.network!, gateway: p.gateway! } });
  return out;
}

export function routerPortFacts(p: RouterPortRecord): Fact[] {
  return [
    {
      relation: 'logical_router_port',
      tuple: {
        dp: p.dp,
        port: p.port,
        name: p.name,
        mac: p.mac,
        ip: p.ip,
        net_addr: p.net.addr,
        net_len: p.net.len,
        peer_dp: p.peer.dp,
        peer_port: p.peer.port,
      },
    },
  ];
}

export function staticRouteFacts(r: StaticRouteRecord): Fact[] {
  return [
    {
      relation: 'static_route',
      tuple: { dp: r.dp, prefix_addr: r.prefix.addr, prefix_len: r.prefix.len, nexthop: r.nexthop, out_port: r.outPort },
    },
  ];
}

export function aclFacts(a: AclRecord): Fact[] {
  const m = a.match;
  return [
    {
      relation: 'acl',
      tuple: {
        dp: a.dp,
        acl: a.key,
        name: a.name,
        priority: a.priority,
        direction: a.direction,
        action: a.action,
        inport: m.inport,
        outport: m.outport,
        eth_type: m.ethType,
        ip_proto: m.ipProto,
        ip_src_addr: m.ipSrc.addr,
        ip_src_len: m.ipSrc.len,
        ip_dst_addr: m.ipDst.addr,
        ip_dst_len: m.ipDst.len,
        l4_src_min: m.l4Src[0],
        l4_src_max: m.l4Src[1],
        l4_dst_min: m.l4Dst[0],
        l4_dst_max: m.l4Dst[1],
      },
    },
  ];
}
