// Who masters what, as a list of changes: an entity (a switch, an LDPS) is held by the instance that last
// took it until that instance lets it go or crashes (a crashed node holds nothing, and a restart does not
// give anything back; the coordination manager reassigns). Owns that rule, for one source of mastership
// records at a time; which source counts for which switch, and what the records say, is decided by the
// model builder. Also merges change lists from several sources back into trace order.

export interface MasterChange {
  readonly t: number;
  /** The 0-based trace line that caused it (a crash releases several entities on one line). */
  readonly line: number;
  readonly entity: string;
  /** The new master, or undefined: none. */
  readonly master: string | undefined;
}

export class MastershipTracker {
  readonly changes: MasterChange[] = [];
  private readonly masterOf = new Map<string, string>();
  private readonly heldBy = new Map<string, Set<string>>();

  /** `instance` takes `entity` (from whoever held it). */
  take(t: number, line: number, entity: string, instance: string): void {
    const previous = this.masterOf.get(entity);
    if (previous === instance) return;
    if (previous !== undefined) this.heldBy.get(previous)!.delete(entity);
    this.masterOf.set(entity, instance);
    let held = this.heldBy.get(instance);
    if (held === undefined) this.heldBy.set(instance, (held = new Set()));
    held.add(entity);
    this.changes.push({ t, line, entity, master: instance });
  }

  /** `instance` lets `entity` go; a release by anyone but the current master changes nothing. */
  release(t: number, line: number, entity: string, instance: string): void {
    if (this.masterOf.get(entity) !== instance) return;
    this.masterOf.delete(entity);
    this.heldBy.get(instance)!.delete(entity);
    this.changes.push({ t, line, entity, master: undefined });
  }

  /** `instance` crashed: it holds nothing any more. */
  releaseAll(t: number, line: number, instance: string): void {
    const held = this.heldBy.get(instance);
    if (held === undefined) return;
    for (const entity of [...held]) this.release(t, line, entity, instance);
  }
}

/** The elements of lists that are each in trace order, merged into one list in trace order (stable). */
export function mergeByLine<T extends { readonly line: number }>(a: readonly T[], b: readonly T[]): T[] {
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(b[j].line < a[i].line ? b[j++] : a[i++]);
  while (i < a.length) merged.push(a[i++]);
  while (j < b.length) merged.push(b[j++]);
  return merged;
}
