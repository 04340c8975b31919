// Flows per switch over time: with a few switches, one step line each; with more, the total over every
// switch. Either way the selected switch's line is drawn on top in the selection color. Owns this chart's
// marks; the frame is time-chart.ts's, the series arithmetic flow-series.ts's.

import { curveStepAfter, line, max } from 'd3';
import type { Nanos, SeriesPoint } from '../model/types.ts';
import { totalSeries, untilEnd, valueAt } from './flow-series.ts';
import { MARK_COLORS } from './palette.ts';
import { TimeChart } from './time-chart.ts';

/** Up to this many switches get a line each; past it the chart shows their total. */
const FEW_SWITCHES = 8;

interface Line {
  readonly key: string;
  readonly points: readonly SeriesPoint[];
  readonly role: 'switch' | 'total' | 'selected';
}

export class FlowsChart {
  private readonly chart: TimeChart;
  private perSwitch: Readonly<Record<string, readonly SeriesPoint[]>> = {};
  private total: readonly SeriesPoint[] = [];
  private endNs: Nanos = 0;
  private selected: string | null = null;

  constructor(container: HTMLElement) {
    this.chart = new TimeChart(container, 'flows per switch', () => this.redraw());
  }

  setTrace(perSwitch: Readonly<Record<string, readonly SeriesPoint[]>>, endNs: Nanos): void {
    this.perSwitch = perSwitch;
    this.total = totalSeries(perSwitch);
    this.endNs = endNs;
    this.selected = null;
    const few = Object.keys(perSwitch).length <= FEW_SWITCHES;
    const yMax = few ? (max(Object.values(perSwitch).flat(), (p) => p.value) ?? 0) : (max(this.total, (p) => p.value) ?? 0);
    this.chart.setDomains(endNs, yMax);
  }

  /** `selected` is any node id; only a switch with flows is highlighted. */
  show(t: Nanos, selected: string | null): void {
    const switchSelected = selected !== null && this.perSwitch[selected] !== undefined ? selected : null;
    if (switchSelected !== this.selected) {
      this.selected = switchSelected;
      this.redraw();
    }
    const few = Object.keys(this.perSwitch).length <= FEW_SWITCHES;
    const readout =
      this.selected !== null
        ? `${this.selected}: ${valueAt(this.perSwitch[this.selected], t)} flows`
        : !few
          ? `total: ${valueAt(this.total, t)} flows`
          : '';
    this.chart.show(t, readout);
  }

  private lines(): Line[] {
    const switches = Object.keys(this.perSwitch).sort();
    const base: Line[] =
      switches.length <= FEW_SWITCHES
        ? switches.filter((s) => s !== this.selected).map((s) => ({ key: s, points: this.perSwitch[s], role: 'switch' }))
        : [{ key: 'total', points: this.total, role: 'total' }];
    return this.selected === null ? base : [...base, { key: this.selected, points: this.perSwitch[this.selected], role: 'selected' }];
  }

  private redraw(): void {
    const { x, y, plot } = this.chart;
    const [bottom, top] = y.range();
    const [left, right] = x.range();
    plot
      .selectAll('text.empty')
      .data(Object.keys(this.perSwitch).length === 0 ? ['no switch installed a flow in this trace'] : [])
      .join('text')
      .attr('class', 'empty')
      .attr('x', (left + right) / 2)
      .attr('y', (top + bottom) / 2)
      .attr('text-anchor', 'middle')
      .text((d) => d);
    const shape = line<SeriesPoint>()
      .x((p) => x(p.t))
      .y((p) => y(p.value))
      .curve(curveStepAfter);
    plot
      .selectAll<SVGPathElement, Line>('path.series')
      .data(this.lines(), (d) => `${d.role}:${d.key}`)
      .join((enter) => {
        const path = enter.append('path');
        path.append('title');
        return path;
      })
      .attr('class', (d) => `series flows ${d.role}`)
      .attr('stroke', (d) => (d.role === 'selected' ? MARK_COLORS.selected : null))
      .attr('d', (d) => shape(untilEnd(d.points, this.endNs)) ?? '')
      .select('title')
      .text((d) => d.key);
  }
}
