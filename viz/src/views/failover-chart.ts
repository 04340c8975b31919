// Failover time per crash: one row per controller crash, a bar from the crash until every switch it
// mastered had another master (to the end of the trace, hatched, when that never happened), labelled with
// the time it took. Owns this chart's marks; the frame is time-chart.ts's.

import type { FailoverRecord, Nanos } from '../model/types.ts';
import { CHART_MARGIN, TimeChart } from './time-chart.ts';
import { formatSpan } from './time-format.ts';

const ROW_MAX = 18;

export class FailoverChart {
  private readonly chart: TimeChart;
  private failovers: readonly FailoverRecord[] = [];
  private endNs: Nanos = 0;

  constructor(container: HTMLElement) {
    this.chart = new TimeChart(container, 'failover time per crash', () => this.redraw());
    this.chart.hideValueAxis();
  }

  setTrace(failovers: readonly FailoverRecord[], endNs: Nanos): void {
    this.failovers = failovers;
    this.endNs = endNs;
    this.chart.setDomains(endNs, 1);
  }

  show(t: Nanos): void {
    const underWay = this.failovers.find((f) => f.crashedAt <= t && (f.recoveredAfterNs === null || t < f.crashedAt + f.recoveredAfterNs));
    const done = this.failovers.filter((f) => f.recoveredAfterNs !== null && f.crashedAt + f.recoveredAfterNs <= t);
    const last = done[done.length - 1];
    const readout =
      underWay !== undefined
        ? `${underWay.node}: failing over, ${formatSpan(t - underWay.crashedAt)} in`
        : last !== undefined
          ? `${last.node}: took ${formatSpan(last.recoveredAfterNs!)}`
          : '';
    this.chart.show(t, readout);
  }

  private redraw(): void {
    const { x, y, plot } = this.chart;
    const [bottom, top] = y.range();
    const rowHeight = Math.min(ROW_MAX, (bottom - top) / Math.max(this.failovers.length, 1));
    const [, right] = x.range();
    const middle = (CHART_MARGIN.left + right) / 2;
    plot
      .selectAll('text.empty')
      .data(this.failovers.length === 0 ? ['no controller crashed in this trace'] : [])
      .join('text')
      .attr('class', 'empty')
      .attr('x', middle)
      .attr('y', (top + bottom) / 2)
      .attr('text-anchor', 'middle')
      .text((d) => d);
    const rows = plot
      .selectAll('g.failover')
      .data(this.failovers)
      .join((enter) => {
        const g = enter.append('g').attr('class', 'failover');
        g.append('rect');
        g.append('text');
        return g;
      })
      .attr('transform', (_f, i) => `translate(0,${top + i * rowHeight})`);
    const endOf = (f: FailoverRecord) => (f.recoveredAfterNs === null ? this.endNs : f.crashedAt + f.recoveredAfterNs);
    rows
      .select('rect')
      .attr('class', (f) => (f.recoveredAfterNs === null ? 'unrecovered' : 'recovered'))
      .attr('x', (f) => x(f.crashedAt))
      .attr('width', (f) => Math.max(2, x(endOf(f)) - x(f.crashedAt)))
      .attr('y', 2)
      .attr('height', rowHeight - 4);
    rows
      .select('text')
      .attr('y', rowHeight / 2)
      .attr('dominant-baseline', 'middle')
      // Right of the bar when there is room, else left of where it starts.
      .attr('text-anchor', (f) => (x(endOf(f)) < middle ? 'start' : 'end'))
      .attr('x', (f) => (x(endOf(f)) < middle ? x(endOf(f)) + 4 : x(f.crashedAt) - 4))
      .text((f) => `${f.node} ${f.recoveredAfterNs === null ? 'not recovered' : formatSpan(f.recoveredAfterNs)}`);
  }
}
