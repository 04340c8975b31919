// Messages per second: the model's per-second counts of sent messages as a step area over time. Owns this
// chart's marks; the frame is time-chart.ts's.

import { area, curveStepAfter, max } from 'd3';
import type { Nanos, SeriesPoint } from '../model/types.ts';
import { untilEnd, valueAt } from './flow-series.ts';
import { TimeChart } from './time-chart.ts';

export class MessagesChart {
  private readonly chart: TimeChart;
  private points: readonly SeriesPoint[] = [];
  private endNs: Nanos = 0;

  constructor(container: HTMLElement) {
    this.chart = new TimeChart(container, 'messages per second', () => this.redraw());
  }

  setTrace(points: readonly SeriesPoint[], endNs: Nanos): void {
    this.points = points;
    this.endNs = endNs;
    this.chart.setDomains(endNs, max(points, (p) => p.value) ?? 0);
  }

  show(t: Nanos): void {
    this.chart.show(t, this.points.length === 0 ? '' : `${valueAt(this.points, t).toLocaleString('en')} msg/s`);
  }

  private redraw(): void {
    const { x, y, plot } = this.chart;
    const shape = area<SeriesPoint>()
      .x((p) => x(p.t))
      .y0(y(0))
      .y1((p) => y(p.value))
      .curve(curveStepAfter);
    plot
      .selectAll('path.series')
      .data([untilEnd(this.points, this.endNs)])
      .join('path')
      .attr('class', 'series messages')
      .attr('d', (d) => shape(d) ?? '');
  }
}
