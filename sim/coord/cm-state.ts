// The coordination manager's replicated state machine: the commands committed in the consensus log and
// what applying them does — membership, the switch and LDPS master lists (master, backups, epoch), the
// master PTD, the DHT range list, access rights and locks. Every instance applies the same commands in the
// same order, so every instance computes the same elections: the election policy is part of `apply`, and
// an assignment's epoch is the log index of the entry that made it (so epochs only grow, across all
// entities and all leaders). Owns the data and the policy; not the log (raft.ts), sessions or who
// proposes what (coordination-manager.ts).
//
// Elections (seed 000 §3.5, §3.8):
//   - failover: when a member goes down, every entity it mastered gets a new master in the same entry.
//     electionMode 'combined' gives all its LDPSs and switches to one successor (its first live backup:
//     one election); 'separate' elects per kind, LDPSs and switches each to the least loaded member for
//     that kind, so they may land on two different instances.
//   - join: joinPolicy 'unassigned-only' gives a newcomer only entities with no master (new ones, or
//     orphans left when nobody was up); 'rebalance' additionally moves work to it, two-phase: a `revoke`
//     entry takes the entity from its master, and only once that master has applied it (or is down) does
//     the leader propose the `assign` — so two instances never both believe they master it.
// The policy itself is replicated state: a `set-policy` entry replaces it on every replica at the same
// log index, so the leader's next rebalance decision (and every later election) follows the new one.

import type { NodeId } from '../net/message.ts';
import { computeRanges, type HashRange } from '../store/range-list.ts';

export type ElectionMode = 'combined' | 'separate';
export type JoinPolicy = 'rebalance' | 'unassigned-only';

export interface CmPolicy {
  readonly electionMode: ElectionMode;
  readonly joinPolicy: JoinPolicy;
  /** Backups kept per master-list entry (the election's first candidates). */
  readonly backups: number;
}

export const DEFAULT_CM_POLICY: CmPolicy = { electionMode: 'combined', joinPolicy: 'unassigned-only', backups: 1 };

const ELECTION_MODES: readonly ElectionMode[] = ['combined', 'separate'];
const JOIN_POLICIES: readonly JoinPolicy[] = ['rebalance', 'unassigned-only'];

/** Why `policy` is not a valid CmPolicy (one line), or null when it is. */
export function cmPolicyProblem(policy: unknown): string | null {
  if (typeof policy !== 'object' || policy === null) return 'a CM policy must be an object';
  const p = policy as Record<string, unknown>;
  if (!ELECTION_MODES.includes(p.electionMode as ElectionMode)) return `electionMode must be one of ${ELECTION_MODES.join(', ')}, got ${JSON.stringify(p.electionMode)}`;
  if (!JOIN_POLICIES.includes(p.joinPolicy as JoinPolicy)) return `joinPolicy must be one of ${JOIN_POLICIES.join(', ')}, got ${JSON.stringify(p.joinPolicy)}`;
  if (!Number.isSafeInteger(p.backups) || (p.backups as number) < 0) return `backups must be a whole number >= 0, got ${JSON.stringify(p.backups)}`;
  return null;
}

/** Throws one line naming what is wrong with a policy given to a public API. */
export function validateCmPolicy(policy: unknown): asserts policy is CmPolicy {
  const problem = cmPolicyProblem(policy);
  if (problem !== null) throw new Error(`cm policy: ${problem}`);
}

/**
 * 'switch:<id>' or 'ldps:<name>'. A logical datapath set is a tenant's set of logical datapaths (seed 000
 * §1.3: the LDPS of one user), mastered as one: its switches and routers share facts across datapaths
 * (a router's flows depend on its switches'), so one instance computes them all.
 */
export type EntityKey = string;
export const switchEntity = (id: NodeId): EntityKey => `switch:${id}`;
export const ldpsEntity = (name: string): EntityKey => `ldps:${name}`;
export const entityName = (e: EntityKey): string => e.slice(e.indexOf(':') + 1);
export const entityKind = (e: EntityKey): 'switch' | 'ldps' => (e.startsWith('switch:') ? 'switch' : 'ldps');

export interface Member {
  readonly id: NodeId;
  readonly up: boolean;
  readonly hasPtd: boolean;
  readonly hasDht: boolean;
}

export interface MasterEntry {
  /** null while unassigned (never assigned, orphaned with nobody up, or between a revoke and its assign). */
  readonly master: NodeId | null;
  readonly backups: readonly NodeId[];
  /** The log index of the entry that assigned the current master (0 before any). */
  readonly epoch: number;
  /** Set by a rebalance revoke (at log index `at`): who had it and who gets it once `from` has let go. */
  readonly moving: { readonly from: NodeId; readonly to: NodeId; readonly at: number } | null;
}

export interface Lock {
  readonly holder: NodeId;
  readonly requestId: string;
  /** The tasks the lock reserves to its holder (e.g. 'write'); others' requests for them are denied. */
  readonly tasks: readonly string[];
}

export type CmCommand =
  | { readonly kind: 'member-up'; readonly id: NodeId; readonly hasPtd: boolean; readonly hasDht: boolean }
  | { readonly kind: 'member-down'; readonly id: NodeId }
  | { readonly kind: 'register'; readonly entity: EntityKey }
  | { readonly kind: 'revoke'; readonly entity: EntityKey; readonly from: NodeId; readonly to: NodeId }
  | { readonly kind: 'assign'; readonly entity: EntityKey; readonly to: NodeId }
  | { readonly kind: 'grant'; readonly ldps: string; readonly instance: NodeId }
  | { readonly kind: 'lock'; readonly ldps: string; readonly lock: Lock }
  | { readonly kind: 'unlock'; readonly ldps: string; readonly requestId: string }
  /** Replaces the whole election policy from this index on (an invalid one in the log is ignored). */
  | { readonly kind: 'set-policy'; readonly policy: CmPolicy };

/** What one applied command changed, for the trace and for the instance's reactions. */
export interface CmEffects {
  /** Entities whose master or epoch changed, with the new entry. */
  assignments: Array<{ entity: EntityKey; entry: MasterEntry }>;
  membership: boolean;
  ptdMaster: boolean;
  dhtRanges: boolean;
  locks: boolean;
  policy: boolean;
}

export class CmState {
  readonly members = new Map<NodeId, Member>();
  readonly masters = new Map<EntityKey, MasterEntry>();
  /** Instances other than the master allowed to modify an LDPS's records (its access list), by LDPS name. */
  readonly rights = new Map<string, NodeId[]>();
  /** Lock-downs by LDPS name. */
  readonly locks = new Map<string, Lock>();
  ptdMaster: NodeId | null = null;
  ptdEpoch = 0;
  dhtRanges: HashRange[] = [];
  dhtVersion = 0;
  private currentPolicy: CmPolicy;

  constructor(policy: CmPolicy = DEFAULT_CM_POLICY) {
    validateCmPolicy(policy);
    this.currentPolicy = copyPolicy(policy);
  }

  /** The election policy in force at the last applied index. */
  get policy(): CmPolicy {
    return this.currentPolicy;
  }

  upMembers(): NodeId[] {
    return [...this.members.values()].filter((m) => m.up).map((m) => m.id).sort();
  }

  isUp(id: NodeId): boolean {
    return this.members.get(id)?.up === true;
  }

  masterOf(entity: EntityKey): MasterEntry | undefined {
    return this.masters.get(entity);
  }

  /** Entities an instance masters, sorted. */
  mastered(id: NodeId, kind?: 'switch' | 'ldps'): EntityKey[] {
    const out: EntityKey[] = [];
    for (const [e, entry] of this.masters) if (entry.master === id && (kind === undefined || entityKind(e) === kind)) out.push(e);
    return out.sort();
  }

  apply(index: number, cmd: CmCommand): CmEffects {
    const fx: CmEffects = { assignments: [], membership: false, ptdMaster: false, dhtRanges: false, locks: false, policy: false };
    switch (cmd.kind) {
      case 'member-up': {
        const was = this.members.get(cmd.id);
        if (was?.up && was.hasPtd === cmd.hasPtd && was.hasDht === cmd.hasDht) return fx;
        this.members.set(cmd.id, { id: cmd.id, up: true, hasPtd: cmd.hasPtd, hasDht: cmd.hasDht });
        fx.membership = true;
        this.assignUnassigned(index, fx);
        break;
      }
      case 'member-down': {
        const was = this.members.get(cmd.id);
        if (was === undefined || !was.up) return fx;
        this.members.set(cmd.id, { ...was, up: false });
        fx.membership = true;
        this.failover(index, cmd.id, fx);
        // A dead instance's locks die with it: nobody could release them.
        for (const [ldps, lock] of this.locks) if (lock.holder === cmd.id) (this.locks.delete(ldps), (fx.locks = true));
        break;
      }
      case 'register':
        if (this.masters.has(cmd.entity)) return fx;
        this.masters.set(cmd.entity, { master: null, backups: [], epoch: 0, moving: null });
        this.assignUnassigned(index, fx);
        return fx;
      case 'revoke': {
        const entry = this.masters.get(cmd.entity);
        if (entry === undefined || entry.master !== cmd.from || !this.isUp(cmd.to)) return fx;
        this.setEntry(cmd.entity, { ...entry, master: null, moving: { from: cmd.from, to: cmd.to, at: index } }, fx);
        return fx;
      }
      case 'assign': {
        const entry = this.masters.get(cmd.entity);
        if (entry === undefined || entry.master !== null) return fx;
        const to = this.isUp(cmd.to) ? cmd.to : this.leastLoaded(entityKind(cmd.entity));
        if (to === null) return fx;
        this.setEntry(cmd.entity, { master: to, backups: this.backupsFor(to), epoch: index, moving: null }, fx);
        return fx;
      }
      case 'grant': {
        const list = this.rights.get(cmd.ldps) ?? [];
        if (!list.includes(cmd.instance)) this.rights.set(cmd.ldps, [...list, cmd.instance].sort());
        return fx;
      }
      case 'lock':
        if (this.locks.has(cmd.ldps)) return fx; // the first lock wins; the holder must release it
        this.locks.set(cmd.ldps, cmd.lock);
        fx.locks = true;
        return fx;
      case 'unlock':
        if (this.locks.get(cmd.ldps)?.requestId !== cmd.requestId) return fx;
        this.locks.delete(cmd.ldps);
        fx.locks = true;
        return fx;
      case 'set-policy': {
        // Every replica judges the entry alike, so a malformed one is a no-op everywhere, never a divergence.
        if (cmPolicyProblem(cmd.policy) !== null || samePolicy(cmd.policy, this.currentPolicy)) return fx;
        this.currentPolicy = copyPolicy(cmd.policy);
        fx.policy = true;
        // Nothing is elected now: a rebalance happens through the leader's next steps, one move at a time.
        this.refreshBackups();
        return fx;
      }
    }
    // Membership changed: the PTD master, the DHT ranges and every entry's backups follow.
    this.electPtdMaster(index, fx);
    this.recomputeRanges(index, fx);
    this.refreshBackups();
    return fx;
  }

  /**
   * The next rebalance step, for the leader to propose (or null when balanced): the first entity whose
   * move completes a revoke (its old master has let go), else one revoke from the most loaded member to
   * the least loaded when their loads differ by more than one. `hasApplied(member, index)` says whether a
   * member has reported applying the log up to `index`.
   */
  nextRebalanceStep(hasApplied: (member: NodeId, index: number) => boolean): CmCommand | null {
    for (const [entity, entry] of this.masters) {
      if (entry.moving === null) continue;
      const { from, to, at } = entry.moving;
      if (!this.isUp(from) || hasApplied(from, at)) return { kind: 'assign', entity, to };
      return null; // one move at a time
    }
    if (this.policy.joinPolicy !== 'rebalance') return null;
    for (const kind of ['ldps', 'switch'] as const) {
      const up = this.upMembers();
      if (up.length < 2) return null;
      const load = (id: NodeId) => this.mastered(id, kind).length;
      const byLoad = [...up].sort((a, b) => load(a) - load(b) || (a < b ? -1 : 1));
      const least = byLoad[0];
      const most = byLoad[byLoad.length - 1];
      if (load(most) - load(least) <= 1) continue;
      const entity = this.mastered(most, kind)[0];
      return { kind: 'revoke', entity, from: most, to: least };
    }
    return null;
  }

  /** Sanity of the whole state, for checkers: null, or a one-line reason. */
  check(): string | null {
    for (const [e, entry] of this.masters) {
      if (entry.master !== null && !this.isUp(entry.master)) return `${e} is mastered by '${entry.master}', which is down`;
      if (entry.master !== null && entry.backups.includes(entry.master)) return `${e} lists its master as a backup`;
    }
    if (this.ptdMaster !== null && !this.isUp(this.ptdMaster)) return `the PTD master '${this.ptdMaster}' is down`;
    return null;
  }

  // ---- policy ------------------------------------------------------------------------------------------

  private failover(index: number, dead: NodeId, fx: CmEffects): void {
    const orphans = this.mastered(dead);
    if (orphans.length === 0) return;
    if (this.policy.electionMode === 'combined') {
      // One election: the dead master's first live backup (its entries share the backup ranking), else the
      // least loaded member overall, takes every LDPS and switch it had.
      const backup = this.masters.get(orphans[0])!.backups.find((b) => this.isUp(b));
      const successor = backup ?? this.leastLoaded(null);
      for (const e of orphans) this.reassign(index, e, successor, fx);
      return;
    }
    // Separate elections, one per kind: each kind's orphans go to the least loaded member for that kind.
    for (const kind of ['ldps', 'switch'] as const) {
      const successor = this.leastLoaded(kind);
      for (const e of orphans) if (entityKind(e) === kind) this.reassign(index, e, successor, fx);
    }
  }

  private reassign(index: number, entity: EntityKey, to: NodeId | null, fx: CmEffects): void {
    const entry = this.masters.get(entity)!;
    this.setEntry(entity, { master: to, backups: to === null ? [] : this.backupsFor(to), epoch: to === null ? entry.epoch : index, moving: null }, fx);
  }

  /** Gives every unassigned entity (not mid-move) to the least loaded member, one at a time so load evens out. */
  private assignUnassigned(index: number, fx: CmEffects): void {
    for (const [entity, entry] of [...this.masters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (entry.master !== null || entry.moving !== null) continue;
      const to = this.leastLoaded(entityKind(entity));
      if (to === null) return;
      this.setEntry(entity, { master: to, backups: this.backupsFor(to), epoch: index, moving: null }, fx);
    }
  }

  /** The up member with the fewest entities of a kind (or of both kinds), ties by id; null if nobody is up. */
  private leastLoaded(kind: 'switch' | 'ldps' | null): NodeId | null {
    let best: NodeId | null = null;
    let bestLoad = Infinity;
    for (const id of this.upMembers()) {
      const load = kind === null ? this.mastered(id).length : this.mastered(id, kind).length;
      if (load < bestLoad) (best = id), (bestLoad = load);
    }
    return best;
  }

  /** Backups of an entry mastered by `master`: the next up members after it in id order, wrapping. */
  private backupsFor(master: NodeId): NodeId[] {
    const up = this.upMembers();
    const at = up.indexOf(master);
    const out: NodeId[] = [];
    for (let i = 1; i < up.length && out.length < this.policy.backups; i++) out.push(up[(at + i) % up.length]);
    return out;
  }

  /** Backups are informational (they change no instance's duties), so refreshing them is not an effect. */
  private refreshBackups(): void {
    for (const [entity, entry] of this.masters) {
      if (entry.master === null) continue;
      const backups = this.backupsFor(entry.master);
      if (backups.join() !== entry.backups.join()) this.masters.set(entity, { ...entry, backups });
    }
  }

  private electPtdMaster(index: number, fx: CmEffects): void {
    if (this.ptdMaster !== null && this.isUp(this.ptdMaster)) return;
    const candidate = [...this.members.values()].filter((m) => m.up && m.hasPtd).map((m) => m.id).sort()[0] ?? null;
    if (candidate === this.ptdMaster) return;
    this.ptdMaster = candidate;
    this.ptdEpoch = index;
    fx.ptdMaster = true;
  }

  private recomputeRanges(index: number, fx: CmEffects): void {
    const ranges = computeRanges([...this.members.values()].filter((m) => m.up && m.hasDht).map((m) => m.id));
    const same = ranges.length === this.dhtRanges.length && ranges.every((r, i) => r.owner === this.dhtRanges[i].owner && r.start === this.dhtRanges[i].start);
    if (same) return;
    this.dhtRanges = ranges;
    this.dhtVersion = index;
    fx.dhtRanges = true;
  }

  private setEntry(entity: EntityKey, entry: MasterEntry, fx: CmEffects): void {
    this.masters.set(entity, entry);
    fx.assignments.push({ entity, entry });
  }
}

function copyPolicy(p: CmPolicy): CmPolicy {
  return { electionMode: p.electionMode, joinPolicy: p.joinPolicy, backups: p.backups };
}

function samePolicy(a: CmPolicy, b: CmPolicy): boolean {
  return a.electionMode === b.electionMode && a.joinPolicy === b.joinPolicy && a.backups === b.backups;
}
