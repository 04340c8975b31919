// The incremental table-mapping engine (after nLog): declarations of input and derived relations, rules and
// collect aggregations; transactions that take input changes and datapath activation to a fixpoint and
// return the output changes; introspection. Owns the program and all relation state of one engine
// instance; the evaluation itself is delegated to delta-plan.ts (rules) and collect.ts (aggregation).
//
// Semantics, in one place:
// - Inputs are sets. Inserting a present tuple or deleting an absent one is a no-op (insert/delete say
//   so by returning false). Derived relations are sets too; internally each tuple counts its derivations
//   and exists while the count is positive, so a tuple derived two ways survives losing one of them.
// - A transaction's output is the net change per output relation between the states before and after it:
//   a tuple deleted and re-derived within one commit does not appear at all. Relations come in evaluation
//   order (each after the relations it derives from, ties by declaration), and within a relation the
//   deleted tuples, then the inserted ones, each sorted by the relation's tuple order. None of it depends
//   on the order in which the changes were made.
// - Datapath partitioning: input tuples of inactive datapaths are stored but invisible to rules; since
//   every derivation lies within one datapath (see rule-spec.ts), nothing is derived for them, and
//   (de)activating a datapath adds or removes exactly what its inputs derive. Global relations are always
//   visible. All datapaths are active until setActiveDatapaths says otherwise.
// - Tuples the engine keeps are its own copies holding exactly the relation's columns; reported tuples
//   are those copies and must not be mutated.
// - Transactions: begin(), insert/delete/setActiveDatapaths, then commit() or abort() (which restores the
//   inputs and active datapaths of begin()); apply(changes) does all of it and aborts on a malformed
//   change. Reads (contents, stats, …) see committed state only.
// - The program is fixed at the first transaction (plans and indexes are compiled then); declarations
//   after it are refused. An exception from a rule function inside a commit leaves the engine unusable,
//   and it says so on every later call rather than compute from a half-applied state.

import { type Change, CommitResult, type RelationChange } from './changes.ts';
import { type CollectSpec, CompiledCollect } from './collect.ts';
import { ActiveDatapaths } from './active-datapaths.ts';
import { CompiledRule } from './delta-plan.ts';
import { InputTable } from './input-table.ts';
import { RelationStore, copyTuple } from './relation-store.ts';
import { BodyBuilder, type RuleDraft, type RuleStart } from './rule-builder.ts';
import { type Env, type RuleSpec, makeRule } from './rule-spec.ts';
import {
  type ColumnType,
  type DatapathColumn,
  type DatapathKey,
  Relation,
  type Scalar,
  type Schema,
  type Tuple,
  type TupleOf,
  checkSchema,
  isScalarType,
} from './schema.ts';
import { DependencyGraph } from './stratify.ts';
import { tupleComparator, tupleKey } from './tuple-key.ts';

type Simplify<X> = { [K in keyof X]: X[K] } & {};
type ScalarColumn<T> = { [K in keyof T]: T[K] extends Scalar ? K : never }[keyof T] & string;

export interface InputOptions<S extends Schema> {
  /** The datapath (LDPS) column, or null for a global relation. */
  readonly datapath: DatapathColumn<S> | null;
}

export interface DerivedOptions<S extends Schema> extends InputOptions<S> {
  /** Whether commits report this relation's changes (default true); false for intermediate views. */
  readonly output?: boolean;
}

export interface CollectOptions<T, G, C, A> {
  readonly from: Relation<T>;
  /** Group columns; must include the source's datapath column if it has one. */
  readonly groupBy: G;
  /** The scalar column whose distinct values are collected. */
  readonly value: C;
  /** Name of the output column holding the sorted list. */
  readonly as: A;
  readonly output?: boolean;
}

export interface RelationStats {
  readonly name: string;
  readonly kind: Relation['kind'];
  readonly datapath: string | null;
  readonly output: boolean;
  /** Tuples rules see (for an input: its tuples in active datapaths). */
  readonly tuples: number;
  /** Sum of the derivation counts of those tuples. */
  readonly derivations: number;
  /** Input tuples stored, active or not (null for derived relations). */
  readonly stored: number | null;
  readonly indexes: readonly string[];
}

export interface EngineStats {
  readonly transactions: number;
  readonly tuples: number;
  readonly derivations: number;
  readonly activeDatapaths: 'all' | number;
  readonly relations: readonly RelationStats[];
  readonly rules: readonly {
    readonly name: string;
    readonly head: string;
    readonly derivationChanges: number;
    readonly recordsVisited: number;
    readonly plans: readonly string[];
  }[];
  readonly collects: readonly { readonly name: string; readonly source: string; readonly derivationChanges: number }[];
}

/** The program, as the batch evaluator and other readers need it. */
export interface Program {
  /** Every relation, in evaluation order. */
  readonly relations: readonly Relation<any>[];
  readonly rules: readonly RuleSpec[];
  readonly collects: readonly CollectSpec[];
}

type Producer = CompiledRule | CompiledCollect;

export class RulesEngine {
  private readonly relations: Relation<any>[] = [];
  private readonly names = new Map<string, Relation<any>>();
  /** By relation id. */
  private readonly stores: RelationStore[] = [];
  private readonly inputTables: (InputTable | null)[] = [];
  private readonly ruleSpecs: RuleSpec[] = [];
  private readonly collectSpecs: CollectSpec[] = [];
  private readonly graph = new DependencyGraph();
  private readonly listeners = new Map<number, ((change: RelationChange<any>) => void)[]>();

  // Filled when the program is sealed at the first transaction.
  private order: Relation<any>[] | null = null;
  private producers: Producer[][] = [];
  private compiledRules: CompiledRule[] = [];
  private compiledCollects: CompiledCollect[] = [];

  private readonly datapaths = new ActiveDatapaths();
  /** The stored-input changes of the open transaction, in order, for abort(). */
  private inputLog: { table: InputTable; datapath: DatapathKey | null; key: string; tuple: Tuple; added: boolean }[] = [];
  private open = false;
  private busy: 'committing' | 'notifying' | null = null;
  private broken: unknown = null;
  /** Stamp of the open (or next) transaction; records compare it to tell old state from new. */
  private stamp = 1;
  private transactions = 0;

  // ---- declarations ----

  /** Declares an input relation: its tuples come from insert/delete. */
  input<const S extends Schema>(name: string, schema: S, options: InputOptions<S>): Relation<TupleOf<S>> {
    const relation = this.declare(name, schema, options.datapath, 'input', false);
    this.inputTables[relation.id] = new InputTable(relation);
    return relation;
  }

  /** Declares a relation derived by rules (see `rule`). */
  relation<const S extends Schema>(name: string, schema: S, options: DerivedOptions<S>): Relation<TupleOf<S>> {
    return this.declare(name, schema, options.datapath, 'rule', options.output ?? true);
  }

  /**
   * Declares a relation holding, per group of `from`, the sorted distinct values of one column:
   * `collect('flood', { from: portOn, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports' })` gives
   * tuples `{ dp, chassis, ports: readonly number[] }`. Its datapath column is the source's.
   */
  collect<T, const G extends readonly (keyof T & string)[], const C extends ScalarColumn<T>, const A extends string>(
    name: string,
    options: CollectOptions<T, G, C, A>,
  ): Relation<Simplify<{ readonly [K in G[number]]: T[K] } & { readonly [K in A]: readonly T[C][] }>> {
    const source = this.owned(options.from);
    const { groupBy, value, as } = options;
    const fail = (why: string): never => {
      throw new Error(`rules: collect '${name}' over '${source.name}': ${why}`);
    };
    if (groupBy.length === 0) fail('groupBy names no column');
    if (new Set(groupBy).size !== groupBy.length) fail('groupBy repeats a column');
    const schema: Record<string, ColumnType> = {};
    for (const column of groupBy) schema[column] = source.typeOf(column);
    const valueType = source.typeOf(value);
    if (!isScalarType(valueType)) fail(`collected column '${value}' must be a scalar column`);
    if (Object.hasOwn(schema, as)) fail(`output column '${as}' clashes with a group column`);
    schema[as] = `${valueType}[]` as ColumnType;
    if (source.datapath !== null && !(groupBy as readonly string[]).includes(source.datapath)) {
      fail(`groupBy must include the datapath column '${source.datapath}', so each group lies in one datapath`);
    }
    const relation = this.declare(name, schema, source.datapath, 'collect', options.output ?? true);
    this.graph.add(relation, [source], `collect '${name}'`);
    this.collectSpecs.push({ source, groupBy: [...groupBy], value, as, output: relation });
    return relation as Relation<any>;
  }

  /**
   * Adds a rule deriving `head` tuples: `engine.rule(l2, (q) => q.from(port).join(binding, { dp: 'dp',
   * port: 'port', chassis: 'ch' }).select((v) => ({ dp: v.dp, chassis: v.ch, mac: v.mac })))`.
   */
  rule<T>(head: Relation<T>, build: (q: RuleStart<T>) => RuleDraft<T>, options: { name?: string } = {}): void {
    this.owned(head);
    this.requireUnsealed();
    if (head.kind !== 'rule') {
      throw new Error(`rules: '${head.name}' is ${head.kind === 'input' ? 'an input' : 'a collect'} relation; rules derive into relation()s`);
    }
    const name = options.name ?? `${head.name}#${this.ruleSpecs.filter((r) => r.head === head).length}`;
    if (this.ruleSpecs.some((r) => r.name === name)) throw new Error(`rules: a rule named '${name}' already exists`);
    const draft = build(new BodyBuilder([]) as unknown as RuleStart<T>) as RuleDraft<unknown>;
    if (!(draft instanceof Object) || !Array.isArray(draft.steps)) {
      throw new Error(`rules: rule '${name}': the body must end with select()`);
    }
    for (const step of draft.steps) if (step.kind === 'atom') this.owned(step.atom.relation);
    const spec = makeRule(name, head, draft.steps, draft.select as (env: Env) => Tuple);
    this.graph.add(head, spec.atoms.map((atom) => atom.relation), `rule '${name}'`);
    this.ruleSpecs.push(spec);
  }

  private declare(
    name: string,
    schema: Schema,
    datapath: string | null,
    kind: Relation['kind'],
    output: boolean,
  ): Relation<any> {
    this.requireUnsealed();
    if (this.names.has(name)) throw new Error(`rules: relation '${name}' is already declared`);
    const { columns, types } = checkSchema(name, schema, datapath ?? null);
    const relation = new Relation(this, this.relations.length, name, columns, types, datapath ?? null, kind, output);
    this.relations.push(relation);
    this.names.set(name, relation);
    this.stores.push(new RelationStore(relation));
    this.inputTables.push(null);
    return relation;
  }

  private owned<T>(relation: Relation<T>): Relation<T> {
    if (!(relation instanceof Relation) || relation.owner !== this) {
      throw new Error(`rules: '${String(relation)}' is not a relation of this engine`);
    }
    return relation;
  }

  private requireUnsealed(): void {
    if (this.order !== null) throw new Error('rules: the program is fixed once the first transaction has begun');
  }

  /** Compiles every rule into its delta plans and indexes; the first transaction does it if not done. */
  seal(): void {
    if (this.order !== null) return;
    this.order = this.graph.order(this.relations);
    this.producers = this.relations.map(() => []);
    const storeOf = (id: number): RelationStore => this.stores[id];
    for (const spec of this.ruleSpecs) {
      const rule = new CompiledRule(spec, storeOf, this.stores[spec.head.id]);
      this.compiledRules.push(rule);
      this.producers[spec.head.id].push(rule);
    }
    for (const spec of this.collectSpecs) {
      const collect = new CompiledCollect(spec, this.stores[spec.source.id], this.stores[spec.output.id]);
      this.compiledCollects.push(collect);
      this.producers[spec.output.id].push(collect);
    }
  }

  // ---- transactions ----

  /** Applies the changes, in order, as one transaction; a malformed change aborts it and throws. */
  apply(changes: Iterable<Change>): CommitResult {
    this.begin();
    try {
      for (const change of changes) {
        if (change.op === 'activate') this.setActiveDatapaths(change.datapaths);
        else if (change.op === 'insert') this.insert(change.relation, change.tuple);
        else this.delete(change.relation, change.tuple);
      }
    } catch (error) {
      this.abort();
      throw error;
    }
    return this.commit();
  }

  begin(): void {
    this.requireUsable();
    if (this.busy === 'notifying') throw new Error('rules: a commit listener may not start a transaction');
    if (this.open) throw new Error('rules: a transaction is already open');
    this.seal();
    this.open = true;
    this.datapaths.save();
    this.inputLog = [];
  }

  /** Drops the open transaction: inputs and active datapaths return to what they were at begin(). */
  abort(): void {
    this.requireOpen();
    for (let i = this.inputLog.length - 1; i >= 0; i--) {
      const { table, datapath, key, tuple, added } = this.inputLog[i];
      if (added) table.remove(datapath, key);
      else table.add(datapath, key, tuple);
    }
    for (const relation of this.relations) if (relation.kind === 'input') this.stores[relation.id].rollback();
    this.datapaths.restore();
    this.inputLog = [];
    this.open = false;
    // A fresh stamp, so records the aborted transaction touched count as untouched by the next one.
    this.stamp++;
  }

  /** Adds an input tuple; false if it was already present. */
  insert<T>(relation: Relation<T>, tuple: T): boolean {
    const table = this.inputTable(relation);
    const key = tupleKey(relation, tuple as Tuple);
    const datapath = table.datapathOf(tuple as Tuple);
    if (table.has(datapath, key)) return false;
    // The engine keeps its own copy: the caller may reuse or mutate its object.
    const t = copyTuple(relation.columns, tuple as Tuple);
    table.add(datapath, key, t);
    this.inputLog.push({ table, datapath, key, tuple: t, added: true });
    if (this.datapaths.has(datapath)) this.stores[relation.id].add(t, key, 1, this.stamp, true);
    return true;
  }

  /** Removes an input tuple (any object with equal column values); false if it was absent. */
  delete<T>(relation: Relation<T>, tuple: T): boolean {
    const table = this.inputTable(relation);
    const t = tuple as Tuple;
    const key = tupleKey(relation, t);
    const datapath = table.datapathOf(t);
    const stored = table.remove(datapath, key);
    if (stored === undefined) return false;
    this.inputLog.push({ table, datapath, key, tuple: stored, added: false });
    if (this.datapaths.has(datapath)) this.stores[relation.id].add(stored, key, -1, this.stamp, true);
    return true;
  }

  /**
   * Makes exactly these datapaths active ('all' for every one). Input tuples of datapaths that become
   * active enter the computation and those of datapaths that become inactive leave it, all in this
   * transaction; the cost is proportional to those tuples (plus, when 'all' is involved, the number of
   * datapaths with stored inputs).
   */
  setActiveDatapaths(datapaths: Iterable<DatapathKey> | 'all'): void {
    this.requireOpen();
    const known = (): Set<DatapathKey> => {
      const all = new Set<DatapathKey>();
      for (const table of this.inputTables) if (table !== null) for (const d of table.datapaths()) all.add(d);
      return all;
    };
    for (const [datapath, delta] of this.datapaths.replace(datapaths, known)) {
      for (const table of this.inputTables) {
        const tuples = table?.inDatapath(datapath);
        if (tuples === undefined) continue;
        const store = this.stores[table!.relation.id];
        for (const [key, tuple] of tuples) store.add(tuple, key, delta, this.stamp, true);
      }
    }
  }

  /** Runs every affected rule to the fixpoint and returns the net output changes. */
  commit(): CommitResult {
    this.requireOpen();
    const order = this.order!;
    const stamp = this.stamp;
    let result: CommitResult;
    this.busy = 'committing';
    try {
      let derivationChanges = 0;
      let inputChanges = 0;
      for (const relation of order) {
        const store = this.stores[relation.id];
        for (const producer of this.producers[relation.id]) {
          if (!producer.bodyStores.some((body) => body.changed)) continue;
          const before = producer.derivationChanges;
          producer.run(stamp);
          derivationChanges += producer.derivationChanges - before;
        }
        if (!store.touchedAny) continue;
        store.settle();
        if (relation.kind === 'input') inputChanges += store.inserted.length + store.deleted.length;
      }
      const changes: RelationChange[] = [];
      for (const relation of order) {
        const store = this.stores[relation.id];
        if (!relation.output || !store.changed) continue;
        const compare = tupleComparator(relation);
        changes.push({
          relation,
          deleted: store.deleted.map((record) => record.tuple).sort(compare),
          inserted: store.inserted.map((record) => record.tuple).sort(compare),
        });
      }
      for (const relation of order) {
        const store = this.stores[relation.id];
        if (store.touchedAny) store.finish();
      }
      result = new CommitResult(changes, inputChanges, derivationChanges);
    } catch (error) {
      this.broken = error;
      throw error;
    } finally {
      this.busy = null;
    }
    this.open = false;
    this.inputLog = [];
    this.stamp++;
    this.transactions++;
    this.notify(result);
    return result;
  }

  /** Calls `listener` after every commit that changed output relation `relation`; returns an unsubscribe. */
  subscribe<T>(relation: Relation<T>, listener: (change: RelationChange<T>) => void): () => void {
    this.owned(relation);
    if (!relation.output) throw new Error(`rules: '${relation.name}' is not an output relation`);
    let list = this.listeners.get(relation.id);
    if (list === undefined) this.listeners.set(relation.id, (list = []));
    list.push(listener);
    return () => {
      const at = list.indexOf(listener);
      if (at >= 0) list.splice(at, 1);
    };
  }

  private notify(result: CommitResult): void {
    if (this.listeners.size === 0) return;
    this.busy = 'notifying';
    try {
      for (const change of result.changes) {
        for (const listener of [...(this.listeners.get(change.relation.id) ?? [])]) listener(change);
      }
    } finally {
      this.busy = null;
    }
  }

  private inputTable(relation: Relation<any>): InputTable {
    this.owned(relation);
    this.requireOpen();
    const table = this.inputTables[relation.id];
    if (table === null) throw new Error(`rules: '${relation.name}' is derived; only input relations take insert/delete`);
    return table;
  }

  private requireOpen(): void {
    this.requireUsable();
    if (!this.open) throw new Error('rules: no open transaction; use begin()/commit() or apply()');
    if (this.busy !== null) throw new Error('rules: the engine is committing');
  }

  private requireUsable(): void {
    if (this.broken !== null) {
      throw new Error(`rules: the engine is unusable: a commit failed (${String(this.broken)})`);
    }
  }

  private requireClosed(): void {
    this.requireUsable();
    if (this.open) throw new Error('rules: reads see committed state; commit the open transaction first');
  }

  // ---- introspection ----

  /** The tuples rules see, sorted by the relation's tuple order (for inputs: those in active datapaths). */
  contents<T>(relation: Relation<T>): T[] {
    this.owned(relation);
    this.requireClosed();
    const out: Tuple[] = [];
    for (const record of this.stores[relation.id].byKey.values()) if (record.count > 0) out.push(record.tuple);
    return out.sort(tupleComparator(relation)) as T[];
  }

  /** Every stored tuple of an input relation, active datapath or not, sorted. */
  storedInputs<T>(relation: Relation<T>): T[] {
    this.owned(relation);
    this.requireClosed();
    const table = this.inputTables[relation.id];
    if (table === null) throw new Error(`rules: '${relation.name}' is not an input relation`);
    return [...table.tuples()].sort(tupleComparator(relation)) as T[];
  }

  /** How many tuples rules see in the relation. */
  size(relation: Relation<any>): number {
    this.owned(relation);
    this.requireClosed();
    return this.stores[relation.id].size;
  }

  /** How many derivations the tuple has (0 if absent; 1 for a visible input tuple). */
  derivations<T>(relation: Relation<T>, tuple: T): number {
    this.owned(relation);
    this.requireClosed();
    return this.stores[relation.id].byKey.get(tupleKey(relation, tuple as Tuple))?.count ?? 0;
  }

  has<T>(relation: Relation<T>, tuple: T): boolean {
    return this.derivations(relation, tuple) > 0;
  }

  /** The active datapaths, sorted, or 'all'. */
  activeDatapaths(): 'all' | DatapathKey[] {
    return this.datapaths.list();
  }

  isDatapathActive(datapath: DatapathKey): boolean {
    return this.datapaths.has(datapath);
  }

  relationNamed(name: string): Relation<any> | undefined {
    return this.names.get(name);
  }

  program(): Program {
    return {
      relations: this.order ?? this.graph.order(this.relations),
      rules: [...this.ruleSpecs],
      collects: [...this.collectSpecs],
    };
  }

  stats(): EngineStats {
    this.requireClosed();
    this.seal();
    let tuples = 0;
    let derivations = 0;
    const relations = this.order!.map((relation): RelationStats => {
      const store = this.stores[relation.id];
      tuples += store.size;
      derivations += store.derivations;
      return {
        name: relation.name,
        kind: relation.kind,
        datapath: relation.datapath,
        output: relation.output,
        tuples: store.size,
        derivations: store.derivations,
        stored: this.inputTables[relation.id]?.size ?? null,
        indexes: store.indexes.map((index) => index.columns.join(',')),
      };
    });
    return {
      transactions: this.transactions,
      tuples,
      derivations,
      activeDatapaths: this.datapaths.size,
      relations,
      rules: this.compiledRules.map((rule) => ({
        name: rule.spec.name,
        head: rule.spec.head.name,
        derivationChanges: rule.derivationChanges,
        recordsVisited: rule.recordsVisited,
        plans: rule.describe(),
      })),
      collects: this.compiledCollects.map((collect) => ({
        name: collect.spec.output.name,
        source: collect.spec.source.name,
        derivationChanges: collect.derivationChanges,
      })),
    };
  }
}
