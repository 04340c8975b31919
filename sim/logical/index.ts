// The logical model's public surface: the LCP API, its input and view types, and the relation schema the
// controller consumes. Re-exports only.
export { LogicalNetworks, type ChangeListener } from './logical-networks.ts';
export type * from './api-types.ts';
export {
  RELATION_COLUMNS,
  RELATION_ORDER,
  type AclAction,
  type AclDirection,
  type MiddleboxKind,
  type MiddleboxRuleAction,
  type Delta,
  type DeltaOp,
  type PortType,
  type RelationName,
  type RelationTuples,
  type Snapshot,
  type Tuple,
} from './relations.ts';
export { compareTuples } from './tuple-order.ts';
export { ACL_PRIORITY_MAX, ACL_PRIORITY_MIN, DATAPATH_KEY_MAX, MIDDLEBOX_PRIORITY_MAX, MIDDLEBOX_PRIORITY_MIN, MIDDLEBOX_TAG_MAX, PORT_KEY_MAX } from './entities.ts';
