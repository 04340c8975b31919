// Every validation error of the logical API: each bad call throws a one-line Error that names the
// problem, and changes nothing — the snapshot, every view, the change stream and even the next key to be
// allocated are as if the call had never been made.
import { describe, expect, test } from 'vitest';
import { LogicalNetworks } from '../../sim/logical/index.ts';
import { expectRefusedWithoutChange } from '../support/logical-refusal.ts';

/**
 * Tenant A: switches web (10.0.1.0/24), app (10.0.2.0/24) and pub (no subnet, a localnet port) joined by
 * router r; a default route out of r-app; ACLs naming web1 and r-web-peer. Tenant B: switch web-b, router rb.
 */
function base(): LogicalNetworks {
  const net = new LogicalNetworks();
  net.createSwitch({ name: 'web', tenant: 'A', subnet: '10.0.1.0/24' });
  net.createSwitch({ name: 'app', tenant: 'A', subnet: '10.0.2.0/24' });
  net.createSwitch({ name: 'pub', tenant: 'A' });
  net.createSwitchPort({ name: 'web1', switch: 'web', addresses: ['02:00:00:00:00:01 10.0.1.5'], portSecurity: ['02:00:00:00:00:01 10.0.1.5'], vifId: 'vif-web1' });
  net.createSwitchPort({ name: 'web2', switch: 'web', addresses: ['02:00:00:00:00:02 10.0.1.6'] });
  net.createSwitchPort({ name: 'pub-ln', switch: 'pub', type: 'localnet', network: 'physnet', gateway: 'gw1' });
  net.createRouter({ name: 'r', tenant: 'A' });
  net.createRouter({ name: 'r2', tenant: 'A' });
  net.connectRouter({ router: 'r', switch: 'web', name: 'r-web', mac: '02:00:00:00:01:01', ip: '10.0.1.1/24' });
  net.connectRouter({ router: 'r', switch: 'app', name: 'r-app', mac: '02:00:00:00:01:02', ip: '10.0.2.1/24' });
  net.createStaticRoute({ router: 'r', prefix: '0.0.0.0/0', nexthop: '10.0.2.254', outputPort: 'r-app' });
  net.createAcl({ name: 'to-web1', switch: 'web', priority: 100, direction: 'to-lport', action: 'drop', match: { outport: 'web1' } });
  net.createAcl({ name: 'from-router', switch: 'web', priority: 100, direction: 'from-lport', action: 'allow', match: { inport: 'r-web-peer' } });
  net.createSwitch({ name: 'web-b', tenant: 'B' });
  net.createRouter({ name: 'rb', tenant: 'B' });
  return net;
}

type Case = [string, (net: LogicalNetworks) => unknown, RegExp];

const cases: Case[] = [
  // logical switches
  ['duplicate switch name', (n) => n.createSwitch({ name: 'web', tenant: 'B' }), /logical switch 'web' already exists/],
  ['bad switch name', (n) => n.createSwitch({ name: 'bad name', tenant: 'A' }), /logical switch name 'bad name' is not a valid name/],
  ['name with a newline', (n) => n.createSwitch({ name: 'a\nb', tenant: 'A' }), /'a\\x0ab' is not a valid name/],
  ['missing tenant', (n) => n.createSwitch({ name: 's', tenant: undefined as unknown as string }), /tenant must be a string/],
  ['bad subnet', (n) => n.createSwitch({ name: 's', tenant: 'A', subnet: '10.0.0.0/33' }), /logical switch 's': subnet: not an IPv4 prefix/],
  ['subnet with host bits', (n) => n.createSwitch({ name: 's', tenant: 'A', subnet: '10.0.0.1/24' }), /host bits set/],
  ['misspelt field', (n) => n.createSwitch({ name: 's', tenant: 'A', subnett: '10.0.0.0/24' } as never), /createSwitch: unknown field 'subnett'/],
  ['not an object', (n) => n.createSwitch(null as never), /createSwitch: expected an object/],
  ['update unknown switch', (n) => n.updateSwitch('nope', { subnet: null }), /unknown logical switch 'nope'/],
  ['rename switch onto another', (n) => n.updateSwitch('web', { name: 'app' }), /logical switch 'app' already exists/],
  ['subnet that leaves ports out', (n) => n.updateSwitch('web', { subnet: '10.0.9.0/24' }), /port '.*' has IP 10\.0\.1\.\d+ outside the new subnet 10\.0\.9\.0\/24/],
  ['delete switch with ports', (n) => n.deleteSwitch('web'), /logical switch 'web' still has 3 port\(s\) \('r-web-peer', 'web1', 'web2'\); .*cascade/],
  ['delete unknown switch', (n) => n.deleteSwitch('nope', { cascade: true }), /unknown logical switch 'nope'/],
  // logical switch ports
  ['port on unknown switch', (n) => n.createSwitchPort({ name: 'p', switch: 'nope' }), /unknown logical switch 'nope'/],
  ['duplicate port name', (n) => n.createSwitchPort({ name: 'web1', switch: 'app' }), /logical switch port 'web1' already exists/],
  ['bad MAC', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00 10.0.1.9'] }), /address entry '02:00:00:00:00 10\.0\.1\.9': not a MAC address/],
  ['multicast MAC', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['01:00:5e:00:00:01'] }), /MAC 01:00:5e:00:00:01 is multicast or broadcast/],
  ['zero MAC', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['00:00:00:00:00:00'] }), /not a usable address/],
  ['bad IP', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:09 10.0.1.300'] }), /not an IPv4 address: '10\.0\.1\.300'/],
  ['addresses not a list', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: '02:00:00:00:00:09' as never }), /addresses must be a list of strings/],
  ['MAC already on the switch', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:01'] }), /MAC 02:00:00:00:00:01 is already used by port 'web1' on logical switch 'web'/],
  ['IP already on the switch', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:09 10.0.1.5'] }), /IP 10\.0\.1\.5 is already used by port 'web1'/],
  ["router port's IP on the switch", (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:09 10.0.1.1'] }), /IP 10\.0\.1\.1 is already used by port 'r-web-peer'/],
  ['IP outside the subnet', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:09 10.0.2.9'] }), /IP 10\.0\.2\.9 is outside subnet 10\.0\.1\.0\/24 of logical switch 'web'/],
  ['MAC twice in one port', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:09', '02:00:00:00:00:09 10.0.1.9'] }), /MAC 02:00:00:00:00:09 is listed twice/],
  ['IP twice in one port', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['02:00:00:00:00:09 10.0.1.9 10.0.1.9'] }), /IP 10\.0\.1\.9 is listed twice/],
  ['unknown twice', (n) => n.createSwitchPort({ name: 'p', switch: 'web', addresses: ['unknown', 'unknown'] }), /'unknown' is listed twice/],
  ['VIF already bound elsewhere', (n) => n.createSwitchPort({ name: 'p', switch: 'app', vifId: 'vif-web1' }), /VIF 'vif-web1' is already bound to logical switch port 'web1'/],
  ['router-type port by hand', (n) => n.createSwitchPort({ name: 'p', switch: 'web', type: 'router' as never }), /'router'-type ports are made by connectRouter/],
  ['unknown port type', (n) => n.createSwitchPort({ name: 'p', switch: 'web', type: 'patch' as never }), /type must be one of vif, localnet, got 'patch'/],
  ['localnet without a gateway', (n) => n.createSwitchPort({ name: 'p', switch: 'app', type: 'localnet', network: 'physnet' }), /needs a network and a gateway/],
  ['second localnet on a switch', (n) => n.createSwitchPort({ name: 'p', switch: 'pub', type: 'localnet', network: 'other', gateway: 'gw2' }), /already has localnet port 'pub-ln'/],
  ['port security on localnet', (n) => n.updateSwitchPort('pub-ln', { portSecurity: ['02:00:00:00:00:09'] }), /port security applies to 'vif' ports only/],
  ['network on a vif port', (n) => n.createSwitchPort({ name: 'p', switch: 'web', network: 'physnet' }), /network and gateway are for 'localnet' ports only/],
  ['localnet bound to a VIF', (n) => n.createSwitchPort({ name: 'p', switch: 'app', type: 'localnet', network: 'x', gateway: 'g', vifId: 'v' }), /only 'vif' ports bind to VIFs/],
  ['bad port-security entry', (n) => n.updateSwitchPort('web2', { portSecurity: ['02:00:00:00:00:02 10.0.1.0/33'] }), /port-security entry '02:00:00:00:00:02 10\.0\.1\.0\/33': not an IPv4 prefix/],
  ['port-security MAC twice', (n) => n.updateSwitchPort('web2', { portSecurity: ['02:00:00:00:00:02', '02:00:00:00:00:02 10.0.1.6'] }), /port security lists MAC 02:00:00:00:00:02 twice/],
  ['update unknown port', (n) => n.updateSwitchPort('nope', {}), /unknown logical switch port 'nope'/],
  ['update moves an IP onto a taken one', (n) => n.updateSwitchPort('web2', { addresses: ['02:00:00:00:00:02 10.0.1.5'] }), /IP 10\.0\.1\.5 is already used by port 'web1'/],
  ['rename port onto another', (n) => n.updateSwitchPort('web2', { name: 'web1' }), /logical switch port 'web1' already exists/],
  ["set a router-type port's addresses", (n) => n.updateSwitchPort('r-web-peer', { addresses: [] }), /takes its address from its router port/],
  // bindings
  ['bind a port twice', (n) => n.bindPort('web1', 'vif-other'), /logical switch port 'web1' is already bound to VIF 'vif-web1'; unbind it first/],
  ['bind a VIF to two ports', (n) => n.bindPort('web2', 'vif-web1'), /VIF 'vif-web1' is already bound to logical switch port 'web1'/],
  ['bind a router-type port', (n) => n.bindPort('r-web-peer', 'v'), /'router' port; only 'vif' ports bind to VIFs/],
  ['bind with a bad VIF id', (n) => n.bindPort('web2', 'has space'), /vifId 'has space' is not a valid name/],
  ['unbind an unbound port', (n) => n.unbindPort('web2'), /logical switch port 'web2' is not bound to a VIF/],
  ['bind an unknown port', (n) => n.bindPort('nope', 'v'), /unknown logical switch port 'nope'/],
  // deleting ports
  ['delete a port an ACL names', (n) => n.deleteSwitchPort('web1'), /logical switch port 'web1' is named by ACL\(s\) 'to-web1'; .*cascade/],
  ["delete a router port's peer", (n) => n.deleteSwitchPort('r-web-peer'), /is the switch side of router port 'r-web'; delete the router port/],
  ['delete unknown port', (n) => n.deleteSwitchPort('nope'), /unknown logical switch port 'nope'/],
  // routers and router ports
  ['duplicate router name', (n) => n.createRouter({ name: 'r', tenant: 'A' }), /logical router 'r' already exists/],
  ['bad router tenant', (n) => n.createRouter({ name: 'x', tenant: '' }), /tenant '' is not a valid name/],
  ['delete router with ports', (n) => n.deleteRouter('r'), /logical router 'r' still has 2 port\(s\) \('r-app', 'r-web'\)/],
  ['rename unknown router', (n) => n.updateRouter('nope', { name: 'x' }), /unknown logical router 'nope'/],
  ['connect unknown router', (n) => n.connectRouter({ router: 'nope', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.9/24' }), /unknown logical router 'nope'/],
  ['connect across tenants', (n) => n.connectRouter({ router: 'rb', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.9/24' }), /logical router 'rb' \(tenant 'B'\) and logical switch 'web' \(tenant 'A'\) belong to different tenants/],
  ['overlapping router port networks', (n) => n.connectRouter({ router: 'r', switch: 'pub', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.129/25' }), /network 10\.0\.1\.128\/25 overlaps 10\.0\.1\.0\/24 of router port 'r-web' on logical router 'r'/],
  ['router MAC repeated on the router', (n) => n.connectRouter({ router: 'r', switch: 'pub', name: 'x', mac: '02:00:00:00:01:01', ip: '192.168.0.1/24' }), /MAC 02:00:00:00:01:01 is already used by router port 'r-web'/],
  ['router port IP taken on the switch', (n) => n.connectRouter({ router: 'r2', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.5/24' }), /IP 10\.0\.1\.5 is already used by port 'web1'/],
  ['router port IP outside the switch subnet', (n) => n.connectRouter({ router: 'r2', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.9.0.1/24' }), /IP 10\.9\.0\.1 is outside subnet 10\.0\.1\.0\/24/],
  ['router port on the network address', (n) => n.connectRouter({ router: 'r2', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.0/24' }), /10\.0\.1\.0 is the network or broadcast address of 10\.0\.1\.0\/24/],
  ['router port without a prefix length', (n) => n.connectRouter({ router: 'r2', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.9' }), /expected an address with a prefix length/],
  ['router port prefix length 0', (n) => n.connectRouter({ router: 'r2', switch: 'web', name: 'x', mac: '02:00:00:00:09:09', ip: '10.0.1.9/0' }), /prefix length in '10\.0\.1\.9\/0' must be 1\.\.32/],
  ['duplicate router port name', (n) => n.connectRouter({ router: 'r2', switch: 'pub', name: 'r-web', mac: '02:00:00:00:09:09', ip: '10.0.1.9/24' }), /logical router port 'r-web' already exists/],
  ['switch-side name taken', (n) => n.connectRouter({ router: 'r2', switch: 'pub', name: 'x', switchPort: 'web1', mac: '02:00:00:00:09:09', ip: '10.0.1.9/24' }), /logical switch port 'web1' already exists/],
  ['router port MAC taken on the switch', (n) => n.connectRouter({ router: 'r2', switch: 'web', name: 'x', mac: '02:00:00:00:00:02', ip: '10.0.1.9/24' }), /MAC 02:00:00:00:00:02 is already used by port 'web2'/],
  ['router port update strands a route', (n) => n.updateRouterPort('r-app', { ip: '10.0.2.1/30' }), /static route 0\.0\.0\.0\/0 via 10\.0\.2\.254 leaves through this port and would be outside its network 10\.0\.2\.0\/30/],
  ['router port update overlaps', (n) => n.updateRouterPort('r-app', { ip: '10.0.0.1/16' }), /overlaps 10\.0\.1\.0\/24 of router port 'r-web'/],
  ['delete router port with a route through it', (n) => n.deleteRouterPort('r-app'), /logical router port 'r-app' is the output port of static route\(s\) '0\.0\.0\.0\/0'/],
  ['delete router port whose peer an ACL names', (n) => n.deleteRouterPort('r-web'), /its switch-side port 'r-web-peer' is named by ACL\(s\) 'from-router'/],
  ['delete unknown router port', (n) => n.deleteRouterPort('nope'), /unknown logical router port 'nope'/],
  // static routes
  ['route on unknown router', (n) => n.createStaticRoute({ router: 'nope', prefix: '0.0.0.0/0', nexthop: '1.2.3.4' }), /unknown logical router 'nope'/],
  ['duplicate route prefix', (n) => n.createStaticRoute({ router: 'r', prefix: '0.0.0.0/0', nexthop: '10.0.1.254' }), /static route 0\.0\.0\.0\/0 already exists/],
  ['bad route prefix', (n) => n.createStaticRoute({ router: 'r', prefix: '10.0.0.0/8x', nexthop: '10.0.1.254' }), /static route prefix: not an IPv4 prefix/],
  ['bad next hop', (n) => n.createStaticRoute({ router: 'r', prefix: '10.8.0.0/16', nexthop: '0.0.0.0' }), /nexthop: 0\.0\.0\.0 is not a host address/],
  ['output port of another router', (n) => n.createStaticRoute({ router: 'r2', prefix: '10.8.0.0/16', nexthop: '10.0.1.254', outputPort: 'r-web' }), /output port 'r-web' is not a port of logical router 'r2'/],
  ['next hop off the output port', (n) => n.createStaticRoute({ router: 'r', prefix: '10.8.0.0/16', nexthop: '10.0.2.254', outputPort: 'r-web' }), /next hop 10\.0\.2\.254 is not on output port 'r-web''s network 10\.0\.1\.0\/24/],
  ['update unknown route', (n) => n.updateStaticRoute('r', '10.8.0.0/16', { nexthop: '10.0.1.9' }), /unknown static route 10\.8\.0\.0\/16 on logical router 'r'/],
  ['update route next hop off its port', (n) => n.updateStaticRoute('r', '0.0.0.0/0', { nexthop: '10.0.1.9' }), /next hop 10\.0\.1\.9 is not on output port 'r-app''s network/],
  ['delete unknown route', (n) => n.deleteStaticRoute('r', '10.8.0.0/16'), /unknown static route 10\.8\.0\.0\/16/],
  // ACLs
  ['ACL priority too high', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 32768, direction: 'from-lport', action: 'drop' }), /ACL 'x': priority must be an integer in 0\.\.32767, got 32768/],
  ['ACL priority negative', (n) => n.createAcl({ name: 'x', switch: 'web', priority: -1, direction: 'from-lport', action: 'drop' }), /priority must be an integer in 0\.\.32767/],
  ['ACL priority fractional', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1.5, direction: 'from-lport', action: 'drop' }), /priority must be an integer/],
  ['ACL bad direction', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'ingress' as never, action: 'drop' }), /direction must be one of from-lport, to-lport, got 'ingress'/],
  ['ACL bad action', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'from-lport', action: 'deny' as never }), /action must be one of allow, allow-related, drop, reject, got 'deny'/],
  ['duplicate ACL name', (n) => n.createAcl({ name: 'to-web1', switch: 'app', priority: 1, direction: 'from-lport', action: 'drop' }), /ACL 'to-web1' already exists/],
  ['ACL on unknown switch', (n) => n.createAcl({ name: 'x', switch: 'nope', priority: 1, direction: 'from-lport', action: 'drop' }), /unknown logical switch 'nope'/],
  ['ACL inport on another switch', (n) => n.createAcl({ name: 'x', switch: 'app', priority: 1, direction: 'from-lport', action: 'drop', match: { inport: 'web1' } }), /inport 'web1' is not a port of logical switch 'app'/],
  ['ACL unknown inport', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'from-lport', action: 'drop', match: { inport: 'nope' } }), /inport 'nope' is not a logical switch port/],
  ['ACL outport before lookup', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'from-lport', action: 'drop', match: { outport: 'web1' } }), /a 'from-lport' ACL cannot match outport/],
  ['ACL L4 port without tcp/udp', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { l4Dst: 22 } }), /l4Dst needs ipProto tcp or udp/],
  ['ACL IP field with ARP', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { ethType: 'arp', ipSrc: '10.0.0.0/8' } }), /ipSrc needs ethType ipv4, not 0x0806/],
  ['ACL empty port range', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { ipProto: 'tcp', l4Dst: [10, 5] } }), /range 10\.\.5 is empty/],
  ['ACL port out of range', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { ipProto: 'udp', l4Src: 70000 } }), /l4Src must be an integer in 0\.\.65535/],
  ['ACL bad ethType', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { ethType: 12 } }), /ethType \(ipv4, arp or 0x0600\.\.0xffff\) must be an integer/],
  ['ACL bad ipProto', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { ipProto: 'sctp' as never } }), /ipProto \(tcp, udp, icmp or 1\.\.255\)/],
  ['ACL bad ipDst', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { ipDst: '10.0.0.1/8' } }), /ipDst: not an IPv4 prefix: '10\.0\.0\.1\/8' has host bits set/],
  ['ACL unknown match field', (n) => n.createAcl({ name: 'x', switch: 'web', priority: 1, direction: 'to-lport', action: 'drop', match: { tcpDst: 22 } as never }), /match: unknown field 'tcpDst'/],
  ['ACL update to from-lport keeps outport', (n) => n.updateAcl('to-web1', { direction: 'from-lport' }), /a 'from-lport' ACL cannot match outport/],
  ['ACL rename onto another', (n) => n.updateAcl('to-web1', { name: 'from-router' }), /ACL 'from-router' already exists/],
  ['update unknown ACL', (n) => n.updateAcl('nope', { priority: 1 }), /unknown ACL 'nope'/],
  ['delete unknown ACL', (n) => n.deleteAcl('nope'), /unknown ACL 'nope'/],
  // transactions
  ['a transaction with one bad call', (n) => n.transaction((t) => (t.createSwitch({ name: 'ok', tenant: 'A' }), t.deleteAcl('to-web1'), t.deleteSwitch('web'))), /logical switch 'web' still has/],
  ['a transaction whose function throws', (n) => n.transaction((t) => (t.deleteSwitch('app', { cascade: true }), t.createSwitch({ name: 'ok', tenant: 'A' }), (() => { throw new Error('user gave up'); })())), /user gave up/],
];

function observe(net: LogicalNetworks): string {
  return JSON.stringify({
    snapshot: net.snapshot(),
    views: [net.switches(), net.switchPorts(), net.routers(), net.routerPorts(), net.staticRoutes(), net.acls()],
  });
}

describe('LogicalNetworks validation: one-line errors, nothing changed', () => {
  test.each(cases)('%s', (_label, call, expected) => {
    const net = base();
    expectRefusedWithoutChange(net, call, expected, observe);
    // Even the key allocators are where they were: the next datapath and port keys match a fresh model's.
    const fresh = base();
    expect(net.createSwitch({ name: 'probe', tenant: 'A' }).dp).toBe(fresh.createSwitch({ name: 'probe', tenant: 'A' }).dp);
    expect(net.createSwitchPort({ name: 'probe-p', switch: 'web' }).port).toBe(fresh.createSwitchPort({ name: 'probe-p', switch: 'web' }).port);
    expect(net.createAcl({ name: 'probe-a', switch: 'web', priority: 1, direction: 'to-lport', action: 'allow' }).acl).toBe(
      fresh.createAcl({ name: 'probe-a', switch: 'web', priority: 1, direction: 'to-lport', action: 'allow' }).acl,
    );
  });

  test('the same calls succeed once what blocked them is gone', () => {
    const net = base();
    net.deleteStaticRoute('r', '0.0.0.0/0');
    net.deleteRouterPort('r-app');
    net.deleteAcl('from-router');
    net.deleteRouterPort('r-web');
    net.deleteSwitchPort('web1', { cascade: true });
    expect(net.acls()).toEqual([]);
    net.deleteSwitch('web', { cascade: true });
    net.deleteRouter('r');
    expect(net.switches().map((s) => s.name)).toEqual(['app', 'pub', 'web-b']);
  });
});
