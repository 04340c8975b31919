// End to end through the controller: tenants configure logical switches in the northbound database, the
// controller learns VIF locations from the switches, computes flows incrementally and pushes them, and
// packets (with ARP first) travel through flow tables and tunnels. Two tenants reuse the same addresses.
import { describe, expect, test } from 'vitest';
import { IP_PROTO_UDP, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import { ms } from '../../sim/kernel/time.ts';
import { controllerWorld, controllerOf, desired, installed } from '../support/controller.ts';

function build(seed = 1) {
  const { world, nb, dp } = controllerWorld(seed);
  const mac = (n: number) => parseMac(`02:00:00:00:00:0${n}`);
  const ip = (n: number) => parseIpv4(`10.0.0.${n}`);
  // Tenant A: a1 (h1), a2 (h2). Tenant B: b1 (h1), b2 (h3) — with the very same MACs and IPs as A's.
  dp.addHost('h1', [{ name: 'a1', vifId: 'vif-a1', mac: mac(1), ip: ip(1) }, { name: 'b1', vifId: 'vif-b1', mac: mac(1), ip: ip(1) }]);
  dp.addHost('h2', [{ name: 'a2', vifId: 'vif-a2', mac: mac(2), ip: ip(2) }]);
  dp.addHost('h3', [{ name: 'b2', vifId: 'vif-b2', mac: mac(2), ip: ip(2) }]);
  dp.addHost('h4', []); // hosts no VM of either tenant
  dp.meshTunnels();
  dp.setControllers(['ctl']);
  for (const t of ['a', 'b']) {
    nb.createSwitch({ name: `ls-${t}`, tenant: t.toUpperCase() });
    for (const n of [1, 2]) {
      nb.createSwitchPort({ name: `${t}${n}`, switch: `ls-${t}`, addresses: [`02:00:00:00:00:0${n} 10.0.0.${n}`], portSecurity: [`02:00:00:00:00:0${n} 10.0.0.${n}`], vifId: `vif-${t}${n}` });
    }
  }
  return { world, nb, dp, ip };
}


describe('one controller, logical switches end to end', () => {
  test('flows reach exactly the switches that host each tenant, and the tables match the desired ones', () => {
    const { world, dp } = build();
    world.scheduler.runUntil(ms(500));
    const ctl = controllerOf(world);
    expect(ctl.switches.allInSync()).toBe(true);
    for (const h of ['h1', 'h2', 'h3', 'h4']) expect(installed(dp, h)).toEqual(desired(world, h));
    const cookies = (h: string) => new Set(ctl.desiredFlows(h).map((f) => f.cookie));
    expect(cookies('h4').size).toBe(0);
    expect([...cookies('h2')]).toEqual(['dp:1']);
    expect([...cookies('h3')]).toEqual(['dp:2']);
  });

  test('a packet reaches the VM of its own tenant and never the other tenant with the same address', () => {
    const { world, dp, ip } = build();
    world.scheduler.runUntil(ms(500));
    dp.host('h1').sendIpFromVm('a1', { ipDst: ip(2), ipProto: IP_PROTO_UDP, l4Src: 1000, l4Dst: 2000 }, 100);
    dp.host('h1').sendIpFromVm('b1', { ipDst: ip(2), ipProto: IP_PROTO_UDP, l4Src: 3000, l4Dst: 4000 }, 100);
    world.scheduler.runUntil(ms(1000));
    const udp = (host: string, vm: string) => dp.host(host).vm(vm).received.filter((r) => r.headers.ipProto === IP_PROTO_UDP);
    expect(udp('h2', 'a2').map((r) => r.headers.l4Dst)).toEqual([2000]);
    expect(udp('h3', 'b2').map((r) => r.headers.l4Dst)).toEqual([4000]);
  });

  test('port security drops a spoofed source', () => {
    const { world, dp, ip } = build();
    world.scheduler.runUntil(ms(500));
    dp.host('h1').sendFromVm('a1', { ethSrc: parseMac('02:00:00:00:00:09'), ethDst: parseMac('02:00:00:00:00:02'), ethType: 0x0800, ipSrc: ip(1), ipDst: ip(2), ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 1, l4Dst: 2, tcpFlags: 0 }, 10);
    world.scheduler.runUntil(ms(1000));
    expect(dp.host('h2').vm('a2').received).toEqual([]);
  });

  test('after a switch crash and restart the controller resynchronises it to the same table', () => {
    const { world, dp } = build();
    world.scheduler.runUntil(ms(500));
    const before = installed(dp, 'h2');
    expect(before.length).toBeGreaterThan(0);
    world.fabric.crash('h2');
    world.fabric.restart('h2');
    world.scheduler.runUntil(ms(3000));
    expect(installed(dp, 'h2')).toEqual(desired(world, 'h2'));
    expect(installed(dp, 'h2')).toEqual(before);
  });
});
