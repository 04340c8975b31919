// Every invariant violation of the trace (#violations), with its time; those after the time shown are
// dimmed, and clicking one scrubs to it. Owns the list; the text comes from the trace and goes in as text.

import { select } from 'd3';
import type { Nanos, Violation } from '../model/types.ts';
import { formatInstant } from './time-format.ts';

/** A trace that breaks an invariant on every step could list thousands; the first ones say enough. */
const MAX_LISTED = 500;

export class ViolationsView {
  constructor(
    private readonly list: HTMLElement,
    private readonly onPick: (t: Nanos) => void,
  ) {}

  setTrace(violations: readonly Violation[]): void {
    const listed = violations.slice(0, MAX_LISTED);
    const items = select(this.list)
      .selectAll<HTMLLIElement, Violation>('li')
      .data(listed)
      .join((enter) => {
        const li = enter.append('li');
        li.append('button').attr('type', 'button');
        return li;
      });
    items
      .select('button')
      .text((v) => `${formatInstant(v.t)}  ${v.id}: ${v.detail}`)
      .on('click', (_event, v) => this.onPick(v.t));
    this.list.dataset.more = violations.length > MAX_LISTED ? `and ${violations.length - MAX_LISTED} more` : '';
  }

  show(t: Nanos): void {
    select(this.list)
      .selectAll<HTMLLIElement, Violation>('li')
      .classed('future', (v) => v.t > t);
  }
}
