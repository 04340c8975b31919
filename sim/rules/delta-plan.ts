// Incremental evaluation of one rule: compiled once into one delta plan per atom, run on every commit in
// which that atom's relation changed. Owns plan compilation (join order, index choice, where each filter
// and computed column goes) and plan execution; stores the derivations it finds into the head's store.
//
// The counting algorithm for a body A1 ⋈ … ⋈ An over relations that are sets: the change in the number of
// derivations is Σi A1new ⋈ … ⋈ A(i-1)new ⋈ ΔAi ⋈ A(i+1)old ⋈ … ⋈ Anold. The plan for atom i scans ΔAi
// (+1 for tuples that appeared, -1 for ones that disappeared) and probes every other atom j in its new
// state if j < i and its old state if j > i. The telescoping sum makes self-joins and a relation changed in
// two atoms at once come out exact: nothing is counted twice and nothing is missed.
//
// Join order: after the delta atom, the atom with the most columns already fixed (bound variables or
// literals) goes next, ties to the earlier atom; its probe uses a hash index on exactly those columns (the
// primary key when they are all the columns, a scan when there are none). A datapath-keyed delta atom
// binds the datapath variable, so every later probe of a datapath-keyed atom includes the datapath; the
// delta of a global relation (a chassis changed) probes by its own columns and so reaches only the active
// datapaths that use it. Filters and computed columns run as soon as every atom written before them is
// bound; a computed variable that an atom has already bound in this plan becomes an equality check.

import { type HashIndex, type RelationStore, type StoredRecord, inNew, inOld } from './relation-store.ts';
import type { Env, RuleSpec } from './rule-spec.ts';
import type { Value } from './schema.ts';
import { encodeValue, tupleKey, valuesEqual } from './tuple-key.ts';

const PROBE = 0;
const LOOKUP = 1;
const SCAN = 2;
const WHERE = 3;
const COMPUTE = 4;
const EMIT = 5;

/** Where a key part comes from: a bound variable or a literal. */
type KeyTerm = { readonly variable: string; readonly constant?: undefined } | { readonly variable?: undefined; readonly constant: Value };

interface AtomOp {
  readonly kind: typeof PROBE | typeof LOOKUP | typeof SCAN;
  readonly store: RelationStore;
  readonly index: HashIndex | null;
  /** Parts of the index key (PROBE) or of the primary key (LOOKUP), in column order. */
  readonly key: readonly KeyTerm[];
  /** Read the state before the transaction (atom after the delta atom) or after it. */
  readonly useOld: boolean;
  /** Column must equal a variable bound earlier in the same atom (`{a: 'x', b: 'x'}`). */
  readonly checks: readonly (readonly [string, string])[];
  readonly binds: readonly (readonly [string, string])[];
}

type Op =
  | AtomOp
  | { readonly kind: typeof WHERE; readonly test: (env: Env) => boolean }
  | { readonly kind: typeof COMPUTE; readonly variable: string; readonly fn: (env: Env) => Value; readonly bind: boolean }
  | { readonly kind: typeof EMIT };

/** The scan of the delta atom that starts a plan. */
interface StartOp {
  readonly store: RelationStore;
  readonly constants: readonly (readonly [string, Value])[];
  readonly checks: readonly (readonly [string, string])[];
  readonly binds: readonly (readonly [string, string])[];
}

interface DeltaPlan {
  readonly start: StartOp;
  readonly ops: readonly Op[];
}

/** A rule compiled for incremental evaluation. */
export class CompiledRule {
  private readonly plans: DeltaPlan[];
  /** The body relations' stores, in atom order. */
  readonly bodyStores: readonly RelationStore[];
  private readonly env: Env;
  private readonly headDatapath: string | null;
  // Per-run state, kept in fields so the recursive walk passes only the op index.
  private ops: readonly Op[] = [];
  private stamp = 0;
  private sign = 0;
  /** Derivations added or removed by this rule since the engine started. */
  derivationChanges = 0;
  /** Delta and probed records this rule has looked at: its work, whether or not they joined. */
  recordsVisited = 0;

  constructor(
    readonly spec: RuleSpec,
    storeOf: (relationId: number) => RelationStore,
    private readonly headStore: RelationStore,
  ) {
    this.bodyStores = spec.atoms.map((atom) => storeOf(atom.relation.id));
    this.plans = spec.atoms.map((_, i) => compilePlan(spec, i, this.bodyStores));
    // Every variable present from the start, in a fixed order: one stable object shape for the rule's life.
    const env: Env = {};
    for (const variable of spec.variables) env[variable] = undefined as unknown as Value;
    this.env = env;
    this.headDatapath = spec.head.datapath;
  }

  /** One line per delta plan: the delta atom, then each probe with the view and index it reads. */
  describe(): string[] {
    return this.plans.map(describePlan);
  }

  /** Adds this transaction's change in derivations to the head store (body stores must be settled). */
  run(stamp: number): void {
    const stores = this.bodyStores;
    this.stamp = stamp;
    for (let i = 0; i < this.plans.length; i++) {
      if (!stores[i].changed) continue;
      // A term with an empty operand contributes nothing; at cold start this skips all but one term.
      let empty = false;
      for (let j = 0; j < stores.length && !empty; j++) {
        if (j !== i) empty = (j < i ? stores[j].size : stores[j].oldSize) === 0;
      }
      if (!empty) this.runPlan(this.plans[i]);
    }
  }

  private runPlan(plan: DeltaPlan): void {
    this.ops = plan.ops;
    const { store } = plan.start;
    this.sign = 1;
    this.scanDelta(plan.start, store.inserted);
    this.sign = -1;
    this.scanDelta(plan.start, store.deleted);
  }

  private scanDelta(start: StartOp, records: readonly StoredRecord[]): void {
    const { env } = this;
    this.recordsVisited += records.length;
    outer: for (let r = 0; r < records.length; r++) {
      const tuple = records[r].tuple;
      for (let c = 0; c < start.constants.length; c++) {
        if (!valuesEqual(tuple[start.constants[c][0]], start.constants[c][1])) continue outer;
      }
      for (let c = 0; c < start.binds.length; c++) env[start.binds[c][1]] = tuple[start.binds[c][0]];
      for (let c = 0; c < start.checks.length; c++) {
        if (!valuesEqual(tuple[start.checks[c][0]], env[start.checks[c][1]])) continue outer;
      }
      this.step(0);
    }
  }

  private step(k: number): void {
    const op = this.ops[k];
    switch (op.kind) {
      case PROBE: {
        const bucket = op.index!.buckets.get(probeKey(op, this.env));
        if (bucket === undefined) return;
        for (let i = 0; i < bucket.length; i++) this.visit(op, bucket[i], k);
        return;
      }
      case LOOKUP: {
        const record = op.store.byKey.get(primaryKey(op.key, this.env));
        if (record !== undefined) this.visit(op, record, k);
        return;
      }
      case SCAN:
        for (const record of op.store.byKey.values()) this.visit(op, record, k);
        return;
      case WHERE:
        if (op.test(this.env)) this.step(k + 1);
        return;
      case COMPUTE: {
        const value = op.fn(this.env);
        if (op.bind) {
          this.env[op.variable] = value;
          this.step(k + 1);
        } else if (valuesEqual(value, this.env[op.variable])) {
          this.step(k + 1);
        }
        return;
      }
      case EMIT:
        this.emit();
        return;
    }
  }

  private visit(op: AtomOp, record: StoredRecord, k: number): void {
    this.recordsVisited++;
    if (op.useOld ? !inOld(record, this.stamp) : !inNew(record)) return;
    const { env } = this;
    const tuple = record.tuple;
    for (let c = 0; c < op.binds.length; c++) env[op.binds[c][1]] = tuple[op.binds[c][0]];
    for (let c = 0; c < op.checks.length; c++) {
      if (!valuesEqual(tuple[op.checks[c][0]], env[op.checks[c][1]])) return;
    }
    this.step(k + 1);
  }

  private emit(): void {
    const { spec, env } = this;
    const tuple = spec.select(env);
    const key = tupleKey(spec.head, tuple);
    if (this.headDatapath !== null && !valuesEqual(tuple[this.headDatapath], env[spec.datapathVariable!])) {
      throw new Error(
        `rules: rule '${spec.name}' derived a '${spec.head.name}' tuple in datapath ` +
          `${JSON.stringify(tuple[this.headDatapath])} from datapath ${JSON.stringify(env[spec.datapathVariable!])}; ` +
          `a head's datapath column must be the body's datapath variable '${spec.datapathVariable}'`,
      );
    }
    this.headStore.add(tuple, key, this.sign, this.stamp);
    this.derivationChanges++;
  }
}

function termValue(term: KeyTerm, env: Env): Value {
  return term.variable !== undefined ? env[term.variable] : term.constant;
}

function probeKey(op: AtomOp, env: Env): unknown {
  if (op.index!.raw) return termValue(op.key[0], env);
  return primaryKey(op.key, env);
}

function primaryKey(key: readonly KeyTerm[], env: Env): string {
  let text = '';
  for (let i = 0; i < key.length; i++) text += encodeValue(termValue(key[i], env));
  return text;
}

/** The plan that starts from the delta of atom `first`. */
function compilePlan(spec: RuleSpec, first: number, stores: readonly RelationStore[]): DeltaPlan {
  const { atoms, steps } = spec;
  const bound = new Set<string>();
  const boundAtoms = new Set<number>();
  const ops: Op[] = [];

  // Each filter or computed column with the number of atoms written before it.
  const pending: { step: (typeof steps)[number]; atomsBefore: number }[] = [];
  let atomCount = 0;
  for (const step of steps) {
    if (step.kind === 'atom') atomCount++;
    else pending.push({ step, atomsBefore: atomCount });
  }
  let nextPending = 0;
  const schedule = (): void => {
    while (nextPending < pending.length) {
      const { step, atomsBefore } = pending[nextPending];
      for (let a = 0; a < atomsBefore; a++) if (!boundAtoms.has(a)) return;
      if (step.kind === 'where') ops.push({ kind: WHERE, test: step.test });
      else if (step.kind === 'compute') {
        ops.push({ kind: COMPUTE, variable: step.variable, fn: step.fn, bind: !bound.has(step.variable) });
        bound.add(step.variable);
      }
      nextPending++;
    }
  };

  // The delta atom: literals become checks, repeated variables checks, the rest bindings.
  const constants: [string, Value][] = [];
  const startChecks: [string, string][] = [];
  const startBinds: [string, string][] = [];
  for (const term of atoms[first].terms) {
    if (term.variable === undefined) constants.push([term.column, term.constant]);
    else if (bound.has(term.variable)) startChecks.push([term.column, term.variable]);
    else {
      startBinds.push([term.column, term.variable]);
      bound.add(term.variable);
    }
  }
  boundAtoms.add(first);
  schedule();

  while (boundAtoms.size < atoms.length) {
    let best = -1;
    let bestScore = -1;
    for (let j = 0; j < atoms.length; j++) {
      if (boundAtoms.has(j)) continue;
      const score = atoms[j].terms.filter((t) => t.variable === undefined || bound.has(t.variable)).length;
      if (score > bestScore) {
        best = j;
        bestScore = score;
      }
    }
    const { relation, terms } = atoms[best];
    const key: KeyTerm[] = [];
    const keyColumns: string[] = [];
    const checks: [string, string][] = [];
    const binds: [string, string][] = [];
    for (const term of terms) {
      if (term.variable === undefined) {
        key.push({ constant: term.constant });
        keyColumns.push(term.column);
      } else if (bound.has(term.variable)) {
        key.push({ variable: term.variable });
        keyColumns.push(term.column);
      }
    }
    // Bind after the key is fixed, so a variable repeated within this atom becomes a check, not a key part.
    for (const term of terms) {
      if (term.variable === undefined || keyColumns.includes(term.column)) continue;
      if (bound.has(term.variable)) checks.push([term.column, term.variable]);
      else {
        binds.push([term.column, term.variable]);
        bound.add(term.variable);
      }
    }
    const store = stores[best];
    const kind = keyColumns.length === relation.columns.length ? LOOKUP : keyColumns.length === 0 ? SCAN : PROBE;
    ops.push({
      kind,
      store,
      index: kind === PROBE ? store.index(keyColumns) : null,
      key,
      useOld: best > first,
      checks,
      binds,
    });
    boundAtoms.add(best);
    schedule();
  }
  if (nextPending !== pending.length) throw new Error(`rules: internal: rule '${spec.name}' left steps unplanned`);
  ops.push({ kind: EMIT });
  return {
    start: { store: stores[first], constants, checks: startChecks, binds: startBinds },
    ops,
  };
}

/** A short text of a plan, for introspection and tests (`stats().rules[i].plans`). */
function describePlan(plan: DeltaPlan): string {
  const parts = [`Δ${plan.start.store.relation.name}`];
  for (const op of plan.ops) {
    const view = op.kind === PROBE || op.kind === LOOKUP || op.kind === SCAN ? (op.useOld ? 'old ' : 'new ') : '';
    if (op.kind === PROBE) parts.push(`${view}${op.store.relation.name}[${op.index!.columns.join(',')}]`);
    else if (op.kind === LOOKUP) parts.push(`${view}${op.store.relation.name}[key]`);
    else if (op.kind === SCAN) parts.push(`${view}${op.store.relation.name}[scan]`);
    else if (op.kind === WHERE) parts.push('where');
    else if (op.kind === COMPUTE) parts.push(op.bind ? `let ${op.variable}` : `check ${op.variable}`);
  }
  return parts.join(' ⋈ ');
}
