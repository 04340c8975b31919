// The request list refuses a malformed request with one line and changes nothing: no id is spent, nothing
// is traced or sent, and the instance goes on as before. (Its behaviour on good requests is the
// cross-master-write scenario's and the request-list property's.)
import { describe, expect, test } from 'vitest';
import type { ClusterInstance } from '../../sim/control/cluster-instance.ts';
import type { AppRequest } from '../../sim/control/request-list.ts';
import { ScenarioRun } from '../../sim/testbed/index.ts';
import crossMasterWrite from '../../scenarios/cross-master-write.ts';

const row = { dp: 1, chassis: 'h1', table: 0, priority: 100, match: '{"ethType":35020}', actions: '[{"type":"drop"}]' };

const BAD: Array<[string, unknown, RegExp]> = [
  ['no change', { basedOn: null }, /^request list: a request needs a change$/],
  ['an unknown op', { change: { op: 'merge', ldps: 'A' }, basedOn: null }, /unknown op "merge"/],
  ['a bad LDPS name', { change: { op: 'lock', ldps: '' }, basedOn: null }, /ldps must be a name/],
  ['a bad record name', { change: { op: 'delete', ldps: 'A', chassis: 'h1', name: 'a/b' }, basedOn: null }, /record name must be/],
  ['a bad version', { change: { op: 'delete', ldps: 'A', chassis: 'h1', name: 'x' }, basedOn: -1 }, /basedOn must be a record version/],
  ['a row for another switch', { change: { op: 'put', ldps: 'A', chassis: 'h2', name: 'x', row }, basedOn: 0 }, /the row is for "h1", not the request's switch h2/],
  ['a malformed flow', { change: { op: 'put', ldps: 'A', chassis: 'h1', name: 'x', row: { ...row, actions: 'drop' } }, basedOn: 0 }, /bad flow/],
  ['a priority out of range', { change: { op: 'put', ldps: 'A', chassis: 'h1', name: 'x', row: { ...row, priority: 70000 } }, basedOn: 0 }, /bad flow: .*priority/],
  ['an unlock without its lock', { change: { op: 'unlock', ldps: 'A', lock: '' }, basedOn: null }, /unlock needs the id of the lock request/],
];

describe('a malformed request', () => {
  test.each(BAD)('%s is refused with one line and changes nothing', (_what, request, message) => {
    const run = new ScenarioRun(crossMasterWrite, { seed: 1, trace: 'off', faults: { source: 'none' } });
    run.world.scheduler.runUntil(2_000_000_000);
    const traced: string[] = [];
    run.world.trace.on('*', (e) => traced.push(e.type));
    const sent = run.world.fabric.stats.sent;
    const instance = run.world.fabric.process<ClusterInstance>('ctl-2')!;
    expect(() => instance.request(request as AppRequest)).toThrow(message);
    expect(() => instance.request(request as AppRequest)).not.toThrow(/\n/);
    expect(run.world.fabric.stats.sent).toBe(sent);
    expect(traced).toEqual([]);
    // The next good request gets the first id: the refused ones spent none.
    expect(instance.request({ change: { op: 'lock', ldps: 'A' }, basedOn: null })).toBe('ctl-2.1.1');
  });
});
