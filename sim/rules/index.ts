// The rules engine's public surface: declare relations and rules, run transactions, read results. Re-exports
// only.
export { RulesEngine, type CollectOptions, type DerivedOptions, type EngineStats, type InputOptions, type Program, type RelationStats } from './engine.ts';
export { evaluateFromScratch } from './batch-evaluator.ts';
export { CommitResult, activateDatapaths, deleteTuple, insertTuple, type Change, type RelationChange } from './changes.ts';
export { Literal, lit } from './rule-spec.ts';
export type { RuleBody, RuleDraft, RuleStart } from './rule-builder.ts';
export {
  Relation,
  type ColumnType,
  type DatapathKey,
  type Scalar,
  type Schema,
  type Tuple,
  type TupleOf,
  type Value,
} from './schema.ts';
export { compareValues, tupleComparator, valuesEqual } from './tuple-key.ts';
