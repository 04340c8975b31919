// The LDPS masters at the time shown (#ldps): "LDPS A → ctl-2", each with its master's color. Owns that
// list; names come from the trace and go in as text only.

import { select } from 'd3';
import type { ViewState } from '../model/types.ts';
import { MARK_COLORS } from './palette.ts';

interface LdpsRow {
  readonly ldps: string;
  readonly master: string | undefined;
}

export class LdpsView {
  /** What the list was last drawn from: redrawing on every frame of playback would churn the DOM for nothing. */
  private drawnFrom = '';

  constructor(private readonly container: HTMLElement) {}

  show(ldpses: readonly string[], view: ViewState, colors: ReadonlyMap<string, string>): void {
    const rows: LdpsRow[] = ldpses.map((ldps) => ({ ldps, master: view.ldpsMasterOf[ldps] }));
    const key = JSON.stringify([rows, [...colors]]);
    if (key === this.drawnFrom) return;
    this.drawnFrom = key;
    draw(this.container, rows, colors);
  }
}

function draw(container: HTMLElement, rows: readonly LdpsRow[], colors: ReadonlyMap<string, string>): void {
  const items = select(container)
    .selectAll<HTMLLIElement, LdpsRow>('li')
    .data(rows)
    .join((enter) => {
      const li = enter.append('li');
      li.append('span').attr('class', 'swatch').attr('aria-hidden', 'true');
      li.append('span').attr('class', 'text');
      return li;
    });
  items.classed('no-master', (d) => d.master === undefined);
  items.select<HTMLSpanElement>('span.swatch').style('background-color', (d) => (d.master === undefined ? MARK_COLORS.noMaster : (colors.get(d.master) ?? MARK_COLORS.noMaster)));
  items.select('span.text').text((d) => `LDPS ${d.ldps} → ${d.master ?? 'none'}`);
}
