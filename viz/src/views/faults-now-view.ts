// What is broken at the time shown (#faults-now): the nodes that are down and the partitions in force, one
// line each. Owns that list; the topology marks the same nodes, this says it in words.

import { select } from 'd3';
import type { ViewState } from '../model/types.ts';

export class FaultsNowView {
  /** The lines last drawn: they change only at faults, so most frames of playback leave the list alone. */
  private drawnFrom = '';

  constructor(private readonly container: HTMLElement) {}

  show(view: ViewState): void {
    const lines = describeFaults(view);
    const key = lines.join('\n');
    if (key === this.drawnFrom) return;
    this.drawnFrom = key;
    select(this.container)
      .selectAll('li')
      .data(lines)
      .join('li')
      .text((d) => d);
  }
}

function describeFaults(view: ViewState): string[] {
  const lines: string[] = [];
  if (view.crashed.length > 0) lines.push(`down: ${view.crashed.join(', ')}`);
  for (const p of view.partitions) {
    const groups = p.groups.map((g) => `{${g.join(', ')}}`).join(' | ');
    lines.push(`partition ${p.id} (${p.mode}): ${groups}`);
  }
  return lines;
}
