// Installed flows per switch over time, from the flow-mods switches accepted: add and modify install a
// flow key (modify installs when the key is missing, as the switch's table does), delete-strict removes
// one key, delete-cookie every key with that cookie; a crashed switch loses its table (a restarted switch
// starts empty and is resynced by flow-mods of its own). Owns that count; the flow-mod semantics follow
// sim/dataplane/flow-table.ts, and unknown commands change nothing.

import type { SeriesPoint } from './types.ts';

interface SwitchTable {
  /** Flow key → its cookie. */
  readonly cookieOf: Map<string, string>;
  readonly keysOf: Map<string, Set<string>>;
  readonly points: SeriesPoint[];
}

export class FlowCounts {
  private readonly tables = new Map<string, SwitchTable>();

  flowmod(t: number, node: string, command: string, flowKey: string, cookie: string): void {
    const table = this.table(node);
    switch (command) {
      case 'add':
      case 'modify':
        remove(table, flowKey);
        table.cookieOf.set(flowKey, cookie);
        keysWith(table, cookie).add(flowKey);
        break;
      case 'delete-strict':
        remove(table, flowKey);
        break;
      case 'delete-cookie':
        for (const key of [...(table.keysOf.get(cookie) ?? [])]) remove(table, key);
        break;
      default:
        return;
    }
    note(table, t);
  }

  /** The node crashed: if it is a switch, its table is gone. */
  crash(t: number, node: string): void {
    const table = this.tables.get(node);
    if (table === undefined) return;
    table.cookieOf.clear();
    table.keysOf.clear();
    note(table, t);
  }

  /** Switch → its flow count, a point at each time it changed. */
  series(): Record<string, readonly SeriesPoint[]> {
    const series: Record<string, readonly SeriesPoint[]> = Object.create(null);
    for (const [node, table] of this.tables) series[node] = table.points;
    return series;
  }

  private table(node: string): SwitchTable {
    let table = this.tables.get(node);
    if (table === undefined) this.tables.set(node, (table = { cookieOf: new Map(), keysOf: new Map(), points: [] }));
    return table;
  }
}

function keysWith(table: SwitchTable, cookie: string): Set<string> {
  let keys = table.keysOf.get(cookie);
  if (keys === undefined) table.keysOf.set(cookie, (keys = new Set()));
  return keys;
}

function remove(table: SwitchTable, flowKey: string): void {
  const cookie = table.cookieOf.get(flowKey);
  if (cookie === undefined) return;
  table.cookieOf.delete(flowKey);
  table.keysOf.get(cookie)!.delete(flowKey);
}

/** One point per time: the flow-mods of one bundle share a time, and only the count after them matters. */
function note(table: SwitchTable, t: number): void {
  const value = table.cookieOf.size;
  const last = table.points[table.points.length - 1];
  if (last !== undefined && last.t === t) table.points[table.points.length - 1] = { t, value };
  else if (last === undefined || last.value !== value) table.points.push({ t, value });
}
