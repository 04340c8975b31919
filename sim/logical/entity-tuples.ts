// How each entity record reads as relation tuples (the schema is in relations.ts). Owns this mapping
// only. Each function depends on its one record alone, so the change tracker can diff an entity's
// tuples before and after a call without looking at anything else.

import type {
  AclRecord,
  MiddleboxPolicyRecord,
  MiddleboxRecord,
  MiddleboxRuleRecord,
  RouterPortRecord,
  RouterRecord,
  StaticRouteRecord,
  SwitchPortRecord,
  SwitchRecord,
} from './entities.ts';
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

export function middleboxFacts(m: MiddleboxRecord): Fact[] {
  const out: Fact[] = [
    { relation: 'middlebox', tuple: { dp: m.dp, mb: m.key, name: m.name, tenant: m.tenant, kind: m.kind, tag: m.tag, default_action: m.defaultAction } },
  ];
  if (m.wirePort !== 0) out.push({ relation: 'middlebox_wire', tuple: { dp: m.dp, mb: m.key, port: m.wirePort } });
  return out;
}

export function middleboxPolicyFacts(p: MiddleboxPolicyRecord): Fact[] {
  const m = p.match;
  return [
    {
      relation: 'middlebox_policy',
      tuple: {
        dp: p.dp,
        policy: p.key,
        mb: p.mb,
        priority: p.priority,
        ip_src_addr: m.ipSrc.addr,
        ip_src_len: m.ipSrc.len,
        ip_dst_addr: m.ipDst.addr,
        ip_dst_len: m.ipDst.len,
        ip_proto: m.ipProto,
        l4_dst_min: m.l4Dst[0],
        l4_dst_max: m.l4Dst[1],
      },
    },
  ];
}

export function middleboxRuleFacts(r: MiddleboxRuleRecord): Fact[] {
  const m = r.match;
  const out: Fact[] = [
    {
      relation: 'middlebox_rule',
      tuple: {
        dp: r.dp,
        rule: r.key,
        mb: r.mb,
        name: r.name,
        priority: r.priority,
        action: r.action,
        ip_src_addr: m.ipSrc.addr,
        ip_src_len: m.ipSrc.len,
        ip_dst_addr: m.ipDst.addr,
        ip_dst_len: m.ipDst.len,
        ip_proto: m.ipProto,
        l4_src_min: m.l4Src[0],
        l4_src_max: m.l4Src[1],
        l4_dst_min: m.l4Dst[0],
        l4_dst_max: m.l4Dst[1],
        to_ip: r.toIp,
        to_port_min: r.toPorts[0],
        to_port_max: r.toPorts[1],
      },
    },
  ];
  for (const b of r.backends) out.push({ relation: 'middlebox_backend', tuple: { dp: r.dp, rule: r.key, ip: b.ip, port: b.port } });
  return out;
}
