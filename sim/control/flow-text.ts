// Matches and action lists as canonical text, so the rules engine can carry them as plain string columns
// (its tuples hold primitives) and equal flows compare equal. Owns the encoding both ways; callers build
// matches with fields in a fixed order, and the JSON keeps that order.

import type { Action, Flow, Match } from '../dataplane/flow.ts';

export const encodeMatch = (m: Match): string => JSON.stringify(m);
export const encodeActions = (a: readonly Action[]): string => JSON.stringify(a);

/** A physical flow as the virtualization app emits it: one row of the engine's `physical_flow`. */
export interface FlowRow {
  readonly dp: number;
  readonly chassis: string;
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

/** The Flow a row stands for; its cookie names the logical datapath it implements. */
export function rowToFlow(row: FlowRow): Flow {
  return { table: row.table, priority: row.priority, match: JSON.parse(row.match) as Match, actions: JSON.parse(row.actions) as Action[], cookie: `dp:${row.dp}` };
}
