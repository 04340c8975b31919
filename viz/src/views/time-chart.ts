// The frame every chart shares: an SVG with a title, a time axis over the whole trace, a value axis, a
// cursor at the time shown and a one-line readout of the value there. Redraws its contents (through the
// chart's `redraw`) when its box changes size. Owns the frame; each chart draws its own marks in `plot`.

import { axisBottom, axisLeft, format, scaleLinear, select, type ScaleLinear, type Selection } from 'd3';
import type { Nanos } from '../model/types.ts';
import { axisTickFormat } from './time-format.ts';

const HEIGHT = 170;
/** The title and the readout take the first two lines above the plot. */
export const CHART_MARGIN = { top: 36, right: 14, bottom: 22, left: 46 };

export class TimeChart {
  readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  /** Where the chart draws its marks, in the frame's coordinates. */
  readonly plot: Selection<SVGGElement, unknown, null, undefined>;
  readonly x: ScaleLinear<number, number> = scaleLinear();
  readonly y: ScaleLinear<number, number> = scaleLinear();
  private readonly xAxis: Selection<SVGGElement, unknown, null, undefined>;
  private readonly yAxis: Selection<SVGGElement, unknown, null, undefined>;
  private readonly cursor: Selection<SVGLineElement, unknown, null, undefined>;
  private readonly readout: Selection<SVGTextElement, unknown, null, undefined>;
  private time: Nanos = 0;

  constructor(
    private readonly container: HTMLElement,
    title: string,
    private readonly redraw: () => void,
  ) {
    this.svg = select(container).append('svg').attr('class', 'chart').attr('height', HEIGHT);
    this.svg.append('text').attr('class', 'chart-title').attr('x', 8).attr('y', 14).text(title);
    this.readout = this.svg.append('text').attr('class', 'chart-readout').attr('x', 8).attr('y', 28);
    this.xAxis = this.svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${HEIGHT - CHART_MARGIN.bottom})`);
    this.yAxis = this.svg.append('g').attr('class', 'axis').attr('transform', `translate(${CHART_MARGIN.left},0)`);
    this.plot = this.svg.append('g').attr('class', 'plot');
    this.cursor = this.svg.append('line').attr('class', 'cursor').attr('y1', CHART_MARGIN.top).attr('y2', HEIGHT - CHART_MARGIN.bottom);
    this.y.range([HEIGHT - CHART_MARGIN.bottom, CHART_MARGIN.top]);
    new ResizeObserver(() => this.layout()).observe(container);
  }

  /** Sets the scales (time over [0, endNs]; values over [0, yMax]) and redraws. */
  setDomains(endNs: Nanos, yMax: number, yTicks = 4): void {
    this.x.domain([0, Math.max(endNs, 1)]);
    this.y.domain([0, Math.max(yMax, 1)]).nice(yTicks);
    this.yAxis.call(axisLeft(this.y).ticks(yTicks).tickFormat(format('~s')));
    this.layout();
  }

  /** Hides the value axis, for charts whose rows are labelled instead. */
  hideValueAxis(): void {
    this.yAxis.attr('display', 'none');
  }

  show(t: Nanos, readout: string): void {
    this.time = t;
    // Set only when it changes: during playback most frames keep the readout, and text changes cost layout.
    if (this.readout.text() !== readout) this.readout.text(readout);
    this.placeCursor();
  }

  private layout(): void {
    const width = Math.max(this.container.clientWidth, 160);
    this.svg.attr('width', width);
    this.x.range([CHART_MARGIN.left, width - CHART_MARGIN.right]);
    const [start, end] = this.x.domain();
    const tick = axisTickFormat(end - start);
    this.xAxis.call(
      axisBottom(this.x)
        .ticks(Math.max(2, Math.floor((width - CHART_MARGIN.left - CHART_MARGIN.right) / 70)))
        .tickFormat((d) => tick(Number(d))),
    );
    this.placeCursor();
    this.redraw();
  }

  private placeCursor(): void {
    const cx = this.x(this.time);
    this.cursor.attr('x1', cx).attr('x2', cx);
  }
}
