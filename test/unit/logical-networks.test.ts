// The logical control plane API on the happy path: what each call creates, how keys are allocated, what
// the views and relation tuples look like, cascades, transactions and the change stream's order and
// delivery rules. Validation errors are in logical-validation.test.ts.
import { describe, expect, test } from 'vitest';
import { parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import { compareTuples, LogicalNetworks, RELATION_COLUMNS, RELATION_ORDER, type Delta, type RelationName, type Snapshot } from '../../sim/logical/index.ts';

/** Tenant A's three-tier network: web and db switches behind router r, a default route, two ACLs. */
function threeTier(net = new LogicalNetworks()): LogicalNetworks {
  net.createSwitch({ name: 'web', tenant: 'A', subnet: '10.0.1.0/24' });
  net.createSwitch({ name: 'db', tenant: 'A', subnet: '10.0.2.0/24' });
  net.createSwitchPort({ name: 'web1', switch: 'web', addresses: ['02:00:00:00:01:01 10.0.1.11'], portSecurity: ['02:00:00:00:01:01 10.0.1.11'], vifId: 'vif-web1' });
  net.createSwitchPort({ name: 'db1', switch: 'db', addresses: ['02:00:00:00:02:01 10.0.2.11'], vifId: 'vif-db1' });
  net.createRouter({ name: 'r', tenant: 'A' });
  net.connectRouter({ router: 'r', switch: 'web', name: 'r-web', mac: '02:00:00:00:ff:01', ip: '10.0.1.1/24' });
  net.connectRouter({ router: 'r', switch: 'db', name: 'r-db', mac: '02:00:00:00:ff:02', ip: '10.0.2.1/24' });
  net.createStaticRoute({ router: 'r', prefix: '0.0.0.0/0', nexthop: '10.0.2.254', outputPort: 'r-db' });
  net.createAcl({ name: 'db-allow-sql', switch: 'db', priority: 2000, direction: 'to-lport', action: 'allow', match: { outport: 'db1', ipSrc: '10.0.1.0/24', ipProto: 'tcp', l4Dst: 5432 } });
  net.createAcl({ name: 'db-deny', switch: 'db', priority: 1000, direction: 'to-lport', action: 'drop', match: { outport: 'db1' } });
  return net;
}

function replay(deltaSets: readonly (readonly Delta[])[]): Snapshot {
  const sets = new Map<RelationName, Map<string, unknown>>(RELATION_ORDER.map((r) => [r, new Map()]));
  for (const set of deltaSets) {
    for (const d of set) {
      const key = JSON.stringify(d.tuple);
      if (d.op === 'insert') sets.get(d.relation)!.set(key, d.tuple);
      else sets.get(d.relation)!.delete(key);
    }
  }
  const out = {} as Record<string, unknown[]>;
  for (const r of RELATION_ORDER) out[r] = [...sets.get(r)!.values()];
  return out as Snapshot;
}

describe('LogicalNetworks: entities and keys', () => {
  test('datapath keys are shared by switches and routers and allocated in call order; port keys per datapath', () => {
    const net = threeTier();
    expect(net.switches().map((s) => [s.name, s.dp])).toEqual([
      ['db', 2],
      ['web', 1],
    ]);
    expect(net.getRouter('r')!.dp).toBe(3);
    expect(net.getSwitchPort('web1')!.port).toBe(1);
    expect(net.getSwitchPort('db1')!.port).toBe(1);
    // The switch side of r-web is the second port on web; r's ports are 1 and 2.
    expect(net.getSwitchPort('r-web-peer')).toMatchObject({ dp: 1, port: 2, type: 'router', routerPort: 'r-web', addresses: ['02:00:00:00:ff:01 10.0.1.1'] });
    expect(net.routerPorts('r').map((p) => [p.name, p.port, p.switchPort])).toEqual([
      ['r-db', 2, 'r-db-peer'],
      ['r-web', 1, 'r-web-peer'],
    ]);
  });

  test('the same calls give the same keys, tuples and change sets', () => {
    const runs = [0, 1].map(() => {
      const net = new LogicalNetworks();
      const log: Delta[][] = [];
      net.subscribe((d) => log.push([...d]));
      threeTier(net);
      return { snapshot: net.snapshot(), log };
    });
    expect(runs[1]).toEqual(runs[0]);
  });

  test('freed keys are not reused until the range wraps', () => {
    const net = new LogicalNetworks();
    net.createSwitch({ name: 's1', tenant: 'A' });
    net.createSwitchPort({ name: 'p1', switch: 's1' });
    net.deleteSwitchPort('p1');
    expect(net.createSwitchPort({ name: 'p2', switch: 's1' }).port).toBe(2);
    net.deleteSwitch('s1', { cascade: true });
    expect(net.createSwitch({ name: 's2', tenant: 'A' }).dp).toBe(2);
  });

  test('views round-trip the input in canonical text', () => {
    const net = threeTier();
    expect(net.getSwitch('db')).toEqual({ name: 'db', tenant: 'A', dp: 2, subnet: '10.0.2.0/24', ports: ['db1', 'r-db-peer'], acls: ['db-allow-sql', 'db-deny'] });
    expect(net.getSwitchPort('web1')).toEqual({
      name: 'web1',
      switch: 'web',
      dp: 1,
      port: 1,
      type: 'vif',
      addresses: ['02:00:00:00:01:01 10.0.1.11'],
      portSecurity: ['02:00:00:00:01:01 10.0.1.11'],
      vifId: 'vif-web1',
    });
    expect(net.getRouterPort('r-web')).toEqual({ name: 'r-web', router: 'r', dp: 3, port: 1, mac: '02:00:00:00:ff:01', ip: '10.0.1.1/24', switch: 'web', switchPort: 'r-web-peer' });
    expect(net.staticRoutes()).toEqual([{ router: 'r', dp: 3, prefix: '0.0.0.0/0', nexthop: '10.0.2.254', outputPort: 'r-db' }]);
    expect(net.getAcl('db-allow-sql')!.match).toEqual({ outport: 'db1', ethType: 'ipv4', ipSrc: '10.0.1.0/24', ipProto: 'tcp', l4Dst: 5432 });
    expect(net.portByVif('vif-db1')!.name).toBe('db1');
    expect(net.getSwitch('nope')).toBeUndefined();
    expect(net.getStaticRoute('r', '0.0.0.0/0')!.nexthop).toBe('10.0.2.254');
    expect(net.getStaticRoute('r', 'garbage')).toBeUndefined();
  });

  test('localnet ports default to unknown addresses and carry network and gateway', () => {
    const net = new LogicalNetworks();
    net.createSwitch({ name: 'pub', tenant: 'A' });
    const p = net.createSwitchPort({ name: 'pub-ln', switch: 'pub', type: 'localnet', network: 'physnet1', gateway: 'gw1' });
    expect(p).toMatchObject({ type: 'localnet', addresses: ['unknown'], network: 'physnet1', gateway: 'gw1' });
    expect(net.snapshot().localnet_port).toEqual([{ dp: 1, port: 1, network: 'physnet1', gateway: 'gw1' }]);
    expect(net.snapshot().port_address_unknown).toEqual([{ dp: 1, port: 1 }]);
    net.updateSwitchPort('pub-ln', { gateway: 'gw2' });
    expect(net.snapshot().localnet_port).toEqual([{ dp: 1, port: 1, network: 'physnet1', gateway: 'gw2' }]);
  });

  test('tenants may reuse MACs, IPs and subnets on different switches', () => {
    const net = new LogicalNetworks();
    for (const tenant of ['A', 'B']) {
      net.createSwitch({ name: `ls-${tenant}`, tenant, subnet: '10.0.0.0/24' });
      net.createSwitchPort({ name: `vm-${tenant}`, switch: `ls-${tenant}`, addresses: ['02:00:00:00:00:01 10.0.0.5'] });
      net.createRouter({ name: `r-${tenant}`, tenant });
      net.connectRouter({ router: `r-${tenant}`, switch: `ls-${tenant}`, name: `rp-${tenant}`, mac: '02:00:00:00:00:fe', ip: '10.0.0.1/24' });
    }
    const ips = net.snapshot().port_address_ip;
    expect(ips.filter((t) => t.ip === parseIpv4('10.0.0.5')).map((t) => t.dp)).toEqual([1, 3]);
    expect(ips.filter((t) => t.mac === parseMac('02:00:00:00:00:fe')).length).toBe(2);
  });
});

describe('LogicalNetworks: relations', () => {
  test('every tuple has its columns in schema order, dp first, and only numbers and strings', () => {
    const snap = threeTier().snapshot();
    for (const r of RELATION_ORDER) {
      for (const t of snap[r]) {
        expect(Object.keys(t)).toEqual(RELATION_COLUMNS[r]);
        expect(Object.keys(t)[0]).toBe('dp');
        for (const v of Object.values(t)) expect(['number', 'string']).toContain(typeof v);
      }
    }
    expect(Object.keys(snap)).toEqual(RELATION_ORDER);
  });

  test('tuples carry numeric MACs, IPs, flattened prefixes and explicit wildcards', () => {
    const snap = threeTier().snapshot();
    expect(snap.port_security).toEqual([
      { dp: 1, port: 1, enabled: 1 },
      { dp: 1, port: 2, enabled: 0 },
      { dp: 2, port: 1, enabled: 0 },
      { dp: 2, port: 2, enabled: 0 },
    ]);
    expect(snap.port_security_ip).toEqual([{ dp: 1, port: 1, mac: parseMac('02:00:00:00:01:01'), ip_addr: parseIpv4('10.0.1.11'), ip_len: 32 }]);
    expect(snap.static_route).toEqual([{ dp: 3, prefix_addr: 0, prefix_len: 0, nexthop: parseIpv4('10.0.2.254'), out_port: 2 }]);
    expect(snap.logical_router_port[0]).toEqual({
      dp: 3,
      port: 1,
      name: 'r-web',
      mac: parseMac('02:00:00:00:ff:01'),
      ip: parseIpv4('10.0.1.1'),
      net_addr: parseIpv4('10.0.1.0'),
      net_len: 24,
      peer_dp: 1,
      peer_port: 2,
    });
    expect(snap.logical_switch_port_peer).toEqual([
      { dp: 1, port: 2, peer_dp: 3, peer_port: 1 },
      { dp: 2, port: 2, peer_dp: 3, peer_port: 2 },
    ]);
    const deny = snap.acl.find((a) => a.name === 'db-deny')!;
    expect(deny).toMatchObject({ inport: 0, outport: 1, eth_type: 0, ip_proto: 0, ip_src_len: 0, l4_src_min: 0, l4_src_max: 65535, l4_dst_min: 0, l4_dst_max: 65535 });
    const sql = snap.acl.find((a) => a.name === 'db-allow-sql')!;
    expect(sql).toMatchObject({ eth_type: 0x0800, ip_proto: 6, ip_src_addr: parseIpv4('10.0.1.0'), ip_src_len: 24, l4_dst_min: 5432, l4_dst_max: 5432 });
    expect(snap.port_binding_request.map((t) => t.vif_id)).toEqual(['vif-web1', 'vif-db1']);
  });

  test('an update is a delete of the old tuple and an insert of the new; unchanged tuples do not appear', () => {
    const net = threeTier();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.updateSwitchPort('web1', { addresses: ['02:00:00:00:01:01 10.0.1.12'] });
    expect(log).toEqual([
      [
        { relation: 'port_address_ip', op: 'delete', tuple: { dp: 1, port: 1, mac: parseMac('02:00:00:00:01:01'), ip: parseIpv4('10.0.1.11') } },
        { relation: 'port_address_ip', op: 'insert', tuple: { dp: 1, port: 1, mac: parseMac('02:00:00:00:01:01'), ip: parseIpv4('10.0.1.12') } },
      ],
    ]);
    // Setting a value to what it already is changes nothing and notifies nobody.
    net.updateSwitchPort('web1', { addresses: ['02:00:00:00:01:01 10.0.1.12'] });
    net.updateSwitch('web', {});
    expect(log.length).toBe(1);
  });

  test('change sets list deletes children-first, then inserts parents-first, each relation sorted', () => {
    const net = threeTier();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.deleteSwitch('db', { cascade: true });
    const rank = (d: Delta) => RELATION_ORDER.indexOf(d.relation);
    const set = log[0];
    expect(set.every((d) => d.op === 'delete')).toBe(true);
    for (let i = 1; i < set.length; i++) expect(rank(set[i - 1])).toBeGreaterThanOrEqual(rank(set[i]));
    expect(set.map((d) => d.relation)).toContain('static_route'); // the route left through r-db
    expect(set.at(-1)!.relation).toBe('logical_switch');
    for (let i = 1; i < set.length; i++) {
      if (set[i - 1].relation === set[i].relation) expect(compareTuples(set[i].relation, set[i - 1].tuple, set[i].tuple)).toBeLessThan(0);
    }
  });

  test('replaying every change set from empty gives the snapshot', () => {
    const net = new LogicalNetworks();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    threeTier(net);
    net.updateRouterPort('r-web', { ip: '10.0.1.254/24', mac: '02:00:00:00:ff:09' });
    net.updateSwitch('web', { name: 'frontend' });
    net.deleteRouterPort('r-db', { cascade: true });
    const replayed = replay(log);
    const snap = net.snapshot();
    for (const r of RELATION_ORDER) expect(new Set(replayed[r].map((t) => JSON.stringify(t)))).toEqual(new Set(snap[r].map((t) => JSON.stringify(t))));
  });
});

describe('LogicalNetworks: cascades', () => {
  test('deleting a switch with cascade removes its ports, router links, routes through them and its ACLs', () => {
    const net = threeTier();
    net.deleteSwitch('db', { cascade: true });
    expect(net.getRouterPort('r-db')).toBeUndefined();
    expect(net.staticRoutes('r')).toEqual([]);
    expect(net.acls()).toEqual([]);
    expect(net.routerPorts().map((p) => p.name)).toEqual(['r-web']);
    expect(net.portByVif('vif-db1')).toBeUndefined();
  });

  test('deleting a switch without ports takes its ACLs without cascade', () => {
    const net = new LogicalNetworks();
    net.createSwitch({ name: 's', tenant: 'A' });
    net.createAcl({ name: 'a', switch: 's', priority: 1, direction: 'from-lport', action: 'drop' });
    net.deleteSwitch('s');
    expect(net.acls()).toEqual([]);
  });

  test('deleting a router with cascade removes the switch-side peers and ACLs naming them', () => {
    const net = threeTier();
    net.createAcl({ name: 'from-router', switch: 'web', priority: 5, direction: 'from-lport', action: 'allow', match: { inport: 'r-web-peer' } });
    net.deleteRouter('r', { cascade: true });
    expect(net.switchPorts().map((p) => p.name)).toEqual(['db1', 'web1']);
    expect(net.acls().map((a) => a.name)).toEqual(['db-allow-sql', 'db-deny']);
  });

  test('deleting a router port (which takes its peer) is the way to disconnect', () => {
    const net = threeTier();
    net.deleteStaticRoute('r', '0.0.0.0/0');
    net.deleteRouterPort('r-db');
    expect(net.getSwitchPort('r-db-peer')).toBeUndefined();
    expect(net.getRouter('r')!.ports).toEqual(['r-web']);
  });

  test('port bindings: bind, unbind, rebind elsewhere', () => {
    const net = threeTier();
    net.unbindPort('web1');
    expect(net.portByVif('vif-web1')).toBeUndefined();
    net.createSwitchPort({ name: 'web2', switch: 'web' });
    net.bindPort('web2', 'vif-web1');
    expect(net.portByVif('vif-web1')!.name).toBe('web2');
    expect(net.snapshot().port_binding_request.find((t) => t.vif_id === 'vif-web1')).toEqual({ dp: 1, port: 3, vif_id: 'vif-web1' });
  });
});

describe('LogicalNetworks: transactions and delivery', () => {
  test('a transaction is one change set, and all-or-nothing', () => {
    const net = new LogicalNetworks();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.transaction((n) => {
      n.createSwitch({ name: 's', tenant: 'A' });
      n.createSwitchPort({ name: 'p', switch: 's' });
    });
    expect(log.length).toBe(1);
    expect(log[0].map((d) => d.relation)).toEqual(['logical_switch', 'logical_switch_port', 'port_security']);
    const before = net.snapshot();
    expect(() =>
      net.transaction((n) => {
        n.createSwitch({ name: 't', tenant: 'A' });
        n.createSwitchPort({ name: 'q', switch: 't' });
        n.createSwitchPort({ name: 'q', switch: 't' }); // duplicate: the whole transaction goes
      }),
    ).toThrow(/logical switch port 'q' already exists/);
    expect(net.snapshot()).toEqual(before);
    expect(log.length).toBe(1);
    // Keys were not consumed by the rolled-back transaction.
    expect(net.createSwitch({ name: 't', tenant: 'A' }).dp).toBe(2);
  });

  test('inserting and deleting within one transaction cancels out', () => {
    const net = new LogicalNetworks();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.transaction((n) => {
      n.createSwitch({ name: 's', tenant: 'A' });
      n.deleteSwitch('s');
    });
    expect(log).toEqual([]);
  });

  test('a caught failure inside a transaction is undone on its own', () => {
    const net = new LogicalNetworks();
    net.transaction((n) => {
      n.createSwitch({ name: 's', tenant: 'A' });
      expect(() => n.transaction((m) => (m.createSwitch({ name: 'x', tenant: 'A' }), m.createSwitch({ name: 's', tenant: 'A' })))).toThrow(/already exists/);
      n.createSwitchPort({ name: 'p', switch: 's' });
    });
    expect(net.switches().map((s) => s.name)).toEqual(['s']);
    expect(net.switchPorts().map((p) => p.name)).toEqual(['p']);
  });

  test('calls made by a listener are delivered after the current change set reaches every listener', () => {
    const net = new LogicalNetworks();
    const seen: string[] = [];
    net.subscribe((d) => {
      seen.push(`first:${d[0].relation}`);
      if (d[0].relation === 'logical_switch') net.createSwitchPort({ name: 'auto', switch: 's' });
    });
    net.subscribe((d) => seen.push(`second:${d[0].relation}`));
    net.createSwitch({ name: 's', tenant: 'A' });
    expect(seen).toEqual(['first:logical_switch', 'second:logical_switch', 'first:logical_switch_port', 'second:logical_switch_port']);
  });

  test('a throwing listener does not stop the others; the change stays committed', () => {
    const net = new LogicalNetworks();
    let reached = false;
    net.subscribe(() => {
      throw new Error('listener failed');
    });
    const unsubscribe = net.subscribe(() => (reached = true));
    expect(() => net.createSwitch({ name: 's', tenant: 'A' })).toThrow('listener failed');
    expect(reached).toBe(true);
    expect(net.getSwitch('s')).toBeDefined();
    unsubscribe();
    reached = false;
    expect(() => net.createSwitch({ name: 't', tenant: 'A' })).toThrow('listener failed');
    expect(reached).toBe(false);
  });

  test('a snapshot is a copy the caller owns', () => {
    const net = threeTier();
    const snap = net.snapshot();
    snap.logical_switch.length = 0;
    expect(net.snapshot().logical_switch.length).toBe(2);
  });
});
