// The coordination manager's state machine: registration spreads work to the least loaded member,
// failover under both election modes, both join policies (including the two-phase move of a rebalance),
// the master PTD and the DHT ranges following membership, locks, and epochs that only grow.
import { describe, expect, test } from 'vitest';
import { CmState, ldpsEntity, switchEntity, validateCmPolicy, type CmCommand, type CmPolicy } from '../../sim/coord/cm-state.ts';
import { checkPartition } from '../../sim/store/range-list.ts';

function stateWith(policy: Partial<CmPolicy>, commands: CmCommand[]) {
  const state = new CmState({ electionMode: 'combined', joinPolicy: 'unassigned-only', backups: 1, ...policy });
  let index = 0;
  const apply = (cmd: CmCommand) => state.apply(++index, cmd);
  for (const c of commands) apply(c);
  return { state, apply, index: () => index };
}

const up = (id: string): CmCommand => ({ kind: 'member-up', id, hasPtd: true, hasDht: true });
const reg = (entity: string): CmCommand => ({ kind: 'register', entity });
const SWITCHES = ['s1', 's2', 's3', 's4', 's5', 's6'].map(switchEntity);
const LDPSS = ['A', 'B', 'C'].map(ldpsEntity);

describe('assignment', () => {
  test('registration goes to the least loaded member, so work spreads evenly; epochs are log indices', () => {
    const { state } = stateWith({}, [up('c1'), up('c2'), up('c3'), ...SWITCHES.map(reg), ...LDPSS.map(reg)]);
    expect(state.mastered('c1', 'switch')).toHaveLength(2);
    expect(state.mastered('c2', 'switch')).toHaveLength(2);
    expect(state.mastered('c3', 'switch')).toHaveLength(2);
    for (const id of ['c1', 'c2', 'c3']) expect(state.mastered(id, 'ldps')).toHaveLength(1);
    expect(state.masterOf(SWITCHES[0])).toMatchObject({ master: 'c1', epoch: 4, backups: ['c2'] });
    expect(state.check()).toBeNull();
  });

  test('an entity registered with nobody up waits, and goes to the first member to come up', () => {
    const { state, apply } = stateWith({}, [reg(SWITCHES[0])]);
    expect(state.masterOf(SWITCHES[0])?.master).toBeNull();
    const fx = apply(up('c2'));
    expect(fx.assignments.map((a) => a.entity)).toEqual([SWITCHES[0]]);
    expect(state.masterOf(SWITCHES[0])).toMatchObject({ master: 'c2', epoch: 2 });
  });

  test('registering twice changes nothing', () => {
    const { state, apply } = stateWith({}, [up('c1'), reg(SWITCHES[0])]);
    const before = state.masterOf(SWITCHES[0]);
    expect(apply(reg(SWITCHES[0])).assignments).toEqual([]);
    expect(state.masterOf(SWITCHES[0])).toBe(before);
  });
});

describe('failover', () => {
  const setup = (electionMode: 'combined' | 'separate') =>
    stateWith({ electionMode }, [up('c1'), up('c2'), up('c3'), ...SWITCHES.map(reg), ...LDPSS.map(reg)]);

  test('combined: one successor (the first live backup) takes every LDPS and switch of the dead member, at a new epoch', () => {
    const { state, apply, index } = setup('combined');
    const orphans = state.mastered('c1');
    const backup = state.masterOf(orphans[0])!.backups[0];
    apply({ kind: 'member-down', id: 'c1' });
    for (const e of orphans) expect(state.masterOf(e)).toMatchObject({ master: backup, epoch: index() });
    expect(state.mastered('c1')).toEqual([]);
    expect(state.check()).toBeNull();
  });

  test("separate: LDPSs and switches are elected per kind, each to that kind's least loaded member", () => {
    // Switches s1..s4 go c1, c2, c3, c1 and LDPSs A..E go c1, c2, c3, c1, c2: without c1, c2 is the least
    // loaded for switches (tie with c3, by id) and c3 for LDPSs, so the two elections pick different successors.
    const { state, apply } = stateWith({ electionMode: 'separate' }, [up('c1'), up('c2'), up('c3'), ...SWITCHES.slice(0, 4).map(reg), ...['A', 'B', 'C', 'D', 'E'].map((n) => reg(ldpsEntity(n)))]);
    const ldps = state.mastered('c1', 'ldps');
    const switches = state.mastered('c1', 'switch');
    expect([ldps.length, switches.length]).toEqual([2, 2]);
    apply({ kind: 'member-down', id: 'c1' });
    for (const e of ldps) expect(state.masterOf(e)!.master).toBe('c3');
    for (const e of switches) expect(state.masterOf(e)!.master).toBe('c2');
  });

  test('when the last member goes down its entities are left unassigned, and a member coming up takes them', () => {
    const { state, apply } = stateWith({}, [up('c1'), reg(SWITCHES[0])]);
    apply({ kind: 'member-down', id: 'c1' });
    expect(state.masterOf(SWITCHES[0])?.master).toBeNull();
    apply(up('c1'));
    expect(state.masterOf(SWITCHES[0])?.master).toBe('c1');
  });

  test("a dead member's locks are released", () => {
    const { state, apply } = stateWith({}, [up('c1'), up('c2'), { kind: 'lock', ldps: 'A', lock: { holder: 'c2', requestId: 'r1', tasks: ['write'] } }]);
    expect(state.locks.get('A')?.holder).toBe('c2');
    expect(apply({ kind: 'member-down', id: 'c2' }).locks).toBe(true);
    expect(state.locks.has('A')).toBe(false);
  });
});

describe('join', () => {
  test('unassigned-only: a newcomer changes no existing assignment', () => {
    const { state, apply } = stateWith({ joinPolicy: 'unassigned-only' }, [up('c1'), up('c2'), ...SWITCHES.map(reg)]);
    const before = SWITCHES.map((e) => state.masterOf(e));
    apply(up('c3'));
    expect(SWITCHES.map((e) => state.masterOf(e))).toEqual(before.map((entry) => expect.objectContaining({ master: entry!.master, epoch: entry!.epoch })));
    expect(state.nextRebalanceStep(() => true)).toBeNull();
  });

  test('rebalance: revoke, wait for the old master to apply it, then assign; until balanced', () => {
    const { state, apply, index } = stateWith({ joinPolicy: 'rebalance' }, [up('c1'), up('c2'), ...SWITCHES.map(reg)]);
    apply(up('c3'));
    const revoke = state.nextRebalanceStep(() => false)!;
    expect(revoke).toMatchObject({ kind: 'revoke', to: 'c3' });
    apply(revoke);
    const at = index();
    const entity = (revoke as { entity: string }).entity;
    expect(state.masterOf(entity)?.master).toBeNull();
    // Not yet applied by the old master: no assign, and no second move.
    expect(state.nextRebalanceStep((_m, i) => i < at)).toBeNull();
    const assign = state.nextRebalanceStep(() => true)!;
    expect(assign).toEqual({ kind: 'assign', entity, to: 'c3' });
    apply(assign);
    expect(state.masterOf(entity)).toMatchObject({ master: 'c3', epoch: index() });
    for (let step = state.nextRebalanceStep(() => true); step !== null; step = state.nextRebalanceStep(() => true)) apply(step);
    expect(['c1', 'c2', 'c3'].map((id) => state.mastered(id, 'switch').length)).toEqual([2, 2, 2]);
  });

  test('a move whose target died goes to the least loaded member instead', () => {
    const { state, apply } = stateWith({ joinPolicy: 'rebalance' }, [up('c1'), up('c2'), ...SWITCHES.map(reg), up('c3')]);
    const revoke = state.nextRebalanceStep(() => true)!;
    apply(revoke);
    apply({ kind: 'member-down', id: 'c3' });
    apply(state.nextRebalanceStep(() => true)!);
    const entity = (revoke as { entity: string }).entity;
    expect(['c1', 'c2']).toContain(state.masterOf(entity)?.master);
  });
});

describe('PTD master and DHT ranges follow membership', () => {
  test('the PTD master is re-elected among PTD holders when it goes down, with a new epoch', () => {
    const { state, apply, index } = stateWith({}, [
      { kind: 'member-up', id: 'c1', hasPtd: true, hasDht: true },
      { kind: 'member-up', id: 'c2', hasPtd: false, hasDht: true },
      { kind: 'member-up', id: 'c3', hasPtd: true, hasDht: false },
    ]);
    expect(state.ptdMaster).toBe('c1');
    apply({ kind: 'member-down', id: 'c1' });
    expect(state.ptdMaster).toBe('c3');
    expect(state.ptdEpoch).toBe(index());
  });

  test('the DHT ranges partition the hash space among live DHT holders', () => {
    const { state, apply } = stateWith({}, [up('c1'), up('c2'), { kind: 'member-up', id: 'c3', hasPtd: true, hasDht: false }]);
    expect(checkPartition(state.dhtRanges)).toBeNull();
    expect(new Set(state.dhtRanges.map((r) => r.owner))).toEqual(new Set(['c1', 'c2']));
    apply({ kind: 'member-down', id: 'c2' });
    expect(checkPartition(state.dhtRanges)).toBeNull();
    expect(new Set(state.dhtRanges.map((r) => r.owner))).toEqual(new Set(['c1']));
  });
});

describe('locks', () => {
  test('the first lock wins; only its request id releases it', () => {
    const { state, apply } = stateWith({}, [up('c1'), up('c2')]);
    apply({ kind: 'lock', ldps: 'A', lock: { holder: 'c1', requestId: 'r1', tasks: ['write'] } });
    apply({ kind: 'lock', ldps: 'A', lock: { holder: 'c2', requestId: 'r2', tasks: ['write'] } });
    expect(state.locks.get('A')?.holder).toBe('c1');
    apply({ kind: 'unlock', ldps: 'A', requestId: 'r2' });
    expect(state.locks.has('A')).toBe(true);
    apply({ kind: 'unlock', ldps: 'A', requestId: 'r1' });
    expect(state.locks.has('A')).toBe(false);
  });
});

describe('set-policy', () => {
  const rebalance: CmPolicy = { electionMode: 'combined', joinPolicy: 'rebalance', backups: 1 };

  test('replaces the policy at its index: a cluster that joined under unassigned-only starts rebalancing', () => {
    const { state, apply } = stateWith({ joinPolicy: 'unassigned-only' }, [up('c1'), up('c2'), ...SWITCHES.map(reg), up('c3')]);
    expect(state.nextRebalanceStep(() => true)).toBeNull();
    const fx = apply({ kind: 'set-policy', policy: rebalance });
    expect(fx.policy).toBe(true);
    // Applying it moves nothing by itself: the leader's next steps do, two-phase.
    expect(fx.assignments).toEqual([]);
    expect(state.policy).toEqual(rebalance);
    expect(state.nextRebalanceStep(() => true)).toMatchObject({ kind: 'revoke', to: 'c3' });
    for (let step = state.nextRebalanceStep(() => true); step !== null; step = state.nextRebalanceStep(() => true)) apply(step);
    expect(['c1', 'c2', 'c3'].map((id) => state.mastered(id, 'switch').length)).toEqual([2, 2, 2]);
  });

  test('every replica that applies the same log ends with the same policy and the same elections', () => {
    const log: CmCommand[] = [up('c1'), up('c2'), ...SWITCHES.map(reg), { kind: 'set-policy', policy: { ...rebalance, electionMode: 'separate' } }, up('c3')];
    const a = stateWith({}, log).state;
    const b = stateWith({}, log).state;
    expect(b.policy).toEqual(a.policy);
    expect(b.nextRebalanceStep(() => true)).toEqual(a.nextRebalanceStep(() => true));
  });

  test('back to unassigned-only: no new move starts, but a revoked entity still gets its assign', () => {
    const { state, apply } = stateWith({ joinPolicy: 'rebalance' }, [up('c1'), up('c2'), ...SWITCHES.map(reg), up('c3')]);
    const revoke = state.nextRebalanceStep(() => true)!;
    apply(revoke);
    apply({ kind: 'set-policy', policy: { ...rebalance, joinPolicy: 'unassigned-only' } });
    const assign = state.nextRebalanceStep(() => true)!;
    expect(assign).toMatchObject({ kind: 'assign', to: 'c3' });
    apply(assign);
    expect(state.nextRebalanceStep(() => true)).toBeNull();
  });

  test('a change of the backup count refreshes every entry; the same policy again is no change', () => {
    const { state, apply } = stateWith({}, [up('c1'), up('c2'), up('c3'), ...SWITCHES.map(reg)]);
    apply({ kind: 'set-policy', policy: { electionMode: 'combined', joinPolicy: 'unassigned-only', backups: 2 } });
    for (const e of SWITCHES) expect(state.masterOf(e)!.backups).toHaveLength(2);
    expect(apply({ kind: 'set-policy', policy: { electionMode: 'combined', joinPolicy: 'unassigned-only', backups: 2 } }).policy).toBe(false);
  });

  test('an invalid policy in the log is ignored by every replica; the public check throws one clear line', () => {
    const { state, apply } = stateWith({}, [up('c1')]);
    const before = state.policy;
    for (const bad of [
      { electionMode: 'combined', joinPolicy: 'sometimes', backups: 1 },
      { electionMode: 'none', joinPolicy: 'rebalance', backups: 1 },
      { electionMode: 'combined', joinPolicy: 'rebalance', backups: -1 },
      { electionMode: 'combined', joinPolicy: 'rebalance', backups: 1.5 },
      null,
    ]) {
      expect(apply({ kind: 'set-policy', policy: bad as unknown as CmPolicy }).policy).toBe(false);
      expect(() => validateCmPolicy(bad)).toThrow(/^cm policy: /);
    }
    expect(state.policy).toBe(before);
    expect(() => new CmState({ electionMode: 'combined', joinPolicy: 'never' as never, backups: 1 })).toThrow('cm policy: joinPolicy must be one of rebalance, unassigned-only, got "never"');
  });
});
