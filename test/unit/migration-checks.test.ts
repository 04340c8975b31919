// The migration invariants of sim/check/migration.ts catch what they are for, from journal events and a
// view, without a world: two running copies, a provision where the network is missing, a verdict that used
// a departed VM's state, state moved for a VM no migration moved, and a host holding records it should not.
import { describe, expect, test } from 'vitest';
import {
  configScopedInvariant,
  noStaleStateUseInvariant,
  oneRunningCopyInvariant,
  onlyMigratedStateMovesInvariant,
  placedWithNetworkInvariant,
  type MigrationView,
} from '../../sim/check/migration.ts';
import { TraceRecorder } from '../../sim/kernel/trace.ts';

function setup(view: Partial<MigrationView>) {
  const trace = new TraceRecorder({ now: 0 }, { level: 'off' });
  const full: MigrationView = { runningHostsOf: () => [], placementVerdict: () => true, vmKeyOf: () => 7, ...view };
  const violations: string[] = [];
  return { trace, full, violations, violated: (d: string) => violations.push(d) };
}

describe('migration invariants', () => {
  test('one-running-copy reports a VM running on two hosts, and not one on one host', () => {
    let hosts = ['h2'];
    const { trace, full, violations, violated } = setup({ runningHostsOf: () => hosts });
    oneRunningCopyInvariant(trace, full).watch!(violated);
    trace.emit('mig.resume', { mig: 'h1#1', vm: 'v', node: 'h2' });
    expect(violations).toEqual([]);
    hosts = ['h1', 'h2'];
    trace.emit('mig.resume', { mig: 'h1#1', vm: 'v', node: 'h2' });
    expect(violations).toEqual(['v runs on h1 and h2']);
  });

  test('placed-with-network reports a provision the view refuses', () => {
    const { trace, full, violations, violated } = setup({ placementVerdict: (_vm, host) => (host === 'h5' ? 'no ls-a there' : true) });
    placedWithNetworkInvariant(trace, full).watch!(violated);
    trace.emit('mig.provision', { mig: 'h1#1', vm: 'v', node: 'h2', origin: 'h1' });
    trace.emit('mig.provision', { mig: 'h1#2', vm: 'v', node: 'h5', origin: 'h2' });
    expect(violations).toEqual(['v provisioned on h5: no ls-a there']);
  });

  test('no-stale-state-use reports an established verdict for a stunned VM at its old host only', () => {
    const { trace, full, violations, violated } = setup({});
    noStaleStateUseInvariant(trace, full).watch!(violated);
    const verdict = (node: string, conn: 'new' | 'established' | 'reply' | 'none') => trace.emit('mb.verdict', { node, tag: 1, vmKey: 7, mode: 'inspect', verdict: 'pass', conn });
    verdict('h1', 'established'); // before the stun: fine
    trace.emit('mig.stun', { mig: 'h1#1', vm: 'v', node: 'h1' });
    verdict('h2', 'established'); // the new host: fine
    verdict('h1', 'none'); // found nothing: fine
    verdict('h1', 'reply');
    expect(violations).toEqual(["h1 used VM key 7's connection state (pass) after it left"]);
    trace.emit('dp.vif.attach', { node: 'h1', vm: 'v', vifId: 'vif-v', port: 9 }); // it came back
    verdict('h1', 'established');
    expect(violations).toHaveLength(1);
  });

  test('one-running-copy counts the host an event says runs the VM, even before the view sees it', () => {
    const { trace, full, violations, violated } = setup({ runningHostsOf: () => ['h2'] });
    oneRunningCopyInvariant(trace, full).watch!(violated);
    trace.emit('dp.vm.run', { node: 'h2', vm: 'v', state: 'running' });
    trace.emit('dp.vm.run', { node: 'h1', vm: 'v', state: 'stunned' });
    expect(violations).toEqual([]);
    trace.emit('dp.vm.run', { node: 'h1', vm: 'v', state: 'running' }); // h1 restarting, not yet in the view
    expect(violations).toEqual(['v runs on h2 and h1']);
  });

  test('only-migrated-state-moves reports an install where no migration arrived and a cleanup where none left', () => {
    const keys: Record<string, number> = { v: 7, w: 8 };
    const { trace, full, violations, violated } = setup({ vmKeyOf: (vm) => keys[vm] });
    onlyMigratedStateMovesInvariant(trace, full).watch!(violated);
    const install = (node: string, vmKey: number) => trace.emit('mb.state.install', { node, vmKey, connections: 1, shared: 0, deltas: 0 });
    const remove = (node: string, vmKey: number, cause: 'delete' | 'ttl' | 'idle') => trace.emit('mb.state.remove', { node, vmKey, entries: 1, cause });
    trace.emit('mig.stun', { mig: 'h1#1', vm: 'v', node: 'h1' });
    trace.emit('mig.provision', { mig: 'h1#1', vm: 'v', node: 'h2', origin: 'h1' });
    install('h2', 7);
    remove('h1', 7, 'delete');
    remove('h1', 8, 'idle'); // the element's own collection
    expect(violations).toEqual([]);
    install('h2', 8);
    remove('h1', 8, 'ttl');
    install('h3', 7);
    expect(violations).toEqual([
      'h2 installed state of VM key 8, which no migration brought there',
      'h1 removed state of VM key 8 (ttl), which no migration took away',
      'h3 installed state of VM key 7, which no migration brought there',
    ]);
  });

  test('middlebox-config-scoped reports a record for a VIF elsewhere and a slice no local VM needs', () => {
    let records = { slices: [1], vms: [{ tag: 1, vifId: 'vif-a' }] };
    let vifs = ['vif-a'];
    const inv = configScopedInvariant({ switches: () => ['h1', 'gw'], records: (id) => (id === 'h1' ? records : { slices: [1], vms: [] }), vifs: (id) => (id === 'h1' ? vifs : []), isHost: (id) => id === 'h1' });
    expect(inv.holds()).toBe(true);
    vifs = [];
    expect(inv.holds()).toBe('h1 holds a record for VIF vif-a (slice 1), which is not attached there');
    records = { slices: [1, 2], vms: [] };
    expect(inv.holds()).toBe('h1 holds slice 1 but runs no VM that needs it');
  });
});
