// The timeline (#timeline, SVG): one lane per kind of event (faults, elections, epochs, migrations,
// violations, config), a mark per event along virtual time, and a cursor at the time shown. Clicking a mark
// scrubs to that event (the page then rings its nodes); clicking elsewhere scrubs there. The wheel
// zooms time and dragging pans it, since a failover's events sit milliseconds apart in seconds of trace.
// Owns the SVG and its time scale; the time itself belongs to the page.

import { axisBottom, scaleLinear, select, zoom, zoomIdentity, zoomTransform, type ScaleLinear, type Selection, type ZoomBehavior, type ZoomTransform } from 'd3';
import type { Nanos, TimelineEntry, TimelineKind } from '../model/types.ts';
import { axisTickFormat, formatInstant } from './time-format.ts';

const TIMELINE_KINDS: readonly TimelineKind[] = ['fault', 'election', 'epoch', 'migration', 'violation', 'config'];

const TIMELINE_KIND_COLORS: Readonly<Record<TimelineKind, string>> = {
  fault: '#e67e22',
  election: '#2e86de',
  epoch: '#8e44ad',
  migration: '#16a085',
  violation: '#c0392b',
  config: '#7f8c8d',
};

const LANE_HEIGHT = 16;
const MARGIN = { top: 6, right: 14, bottom: 22, left: 78 };
const HEIGHT = MARGIN.top + TIMELINE_KINDS.length * LANE_HEIGHT + MARGIN.bottom;
/** Zooming in stops when the whole width spans this many nanoseconds. */
const FINEST_SPAN_NS = 1_000;

export class TimelineView {
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly marks: Selection<SVGGElement, unknown, null, undefined>;
  private readonly axis: Selection<SVGGElement, unknown, null, undefined>;
  private readonly cursor: Selection<SVGLineElement, unknown, null, undefined>;
  private readonly zoomBehavior: ZoomBehavior<SVGSVGElement, unknown>;
  private baseScale: ScaleLinear<number, number> = scaleLinear();
  private scale: ScaleLinear<number, number> = scaleLinear();
  private time: Nanos = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly onScrub: (t: Nanos) => void,
    private readonly onPick: (entry: TimelineEntry) => void,
  ) {
    this.svg = select(container).append('svg').attr('class', 'timeline-svg').attr('height', HEIGHT);
    const lanes = this.svg.append('g').attr('class', 'lanes');
    TIMELINE_KINDS.forEach((kind, i) => {
      const y = MARGIN.top + i * LANE_HEIGHT;
      lanes.append('rect').attr('class', 'lane').attr('x', MARGIN.left).attr('y', y).attr('height', LANE_HEIGHT - 2).attr('data-kind', kind);
      lanes
        .append('text')
        .attr('class', 'lane-label')
        .attr('x', MARGIN.left - 8)
        .attr('y', y + LANE_HEIGHT / 2)
        .attr('fill', TIMELINE_KIND_COLORS[kind])
        .text(kind);
    });
    this.marks = this.svg.append('g').attr('class', 'marks');
    this.axis = this.svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${HEIGHT - MARGIN.bottom})`);
    this.cursor = this.svg.append('line').attr('class', 'cursor').attr('y1', MARGIN.top - 4).attr('y2', HEIGHT - MARGIN.bottom);
    this.zoomBehavior = zoom<SVGSVGElement, unknown>().on('zoom', (event: { transform: ZoomTransform }) => {
      this.scale = event.transform.rescaleX(this.baseScale);
      this.place();
    });
    this.svg.call(this.zoomBehavior).on('dblclick.zoom', null);
    this.svg.on('click', (event: MouseEvent) => this.click(event));
    this.svg.on('dblclick', () => this.svg.call(this.zoomBehavior.transform, zoomIdentity));
    new ResizeObserver(() => this.resize()).observe(container);
  }

  setTrace(entries: readonly TimelineEntry[], endNs: Nanos): void {
    this.baseScale = scaleLinear().domain([0, Math.max(endNs, 1)]);
    this.marks
      .selectAll<SVGRectElement, TimelineEntry>('rect')
      .data(entries)
      .join((enter) => {
        const rect = enter.append('rect').attr('class', 'mark');
        rect.append('title');
        return rect;
      })
      .attr('y', (e) => MARGIN.top + TIMELINE_KINDS.indexOf(e.kind) * LANE_HEIGHT)
      .attr('height', LANE_HEIGHT - 2)
      .attr('fill', (e) => TIMELINE_KIND_COLORS[e.kind])
      .select('title')
      .text((e) => `${formatInstant(e.t)}  ${e.kind}: ${e.label}`);
    this.resize();
    this.svg.call(this.zoomBehavior.transform, zoomIdentity);
  }

  /** Moves the cursor to `t` and marks `current`, the events at exactly that time. */
  show(t: Nanos, current: readonly TimelineEntry[]): void {
    this.time = t;
    this.placeCursor();
    const picked = new Set(current);
    this.marks.selectAll<SVGRectElement, TimelineEntry>('rect').classed('picked', (e) => picked.has(e));
  }

  private resize(): void {
    const width = Math.max(this.container.clientWidth, MARGIN.left + MARGIN.right + 50);
    this.svg.attr('width', width);
    const range: [number, number] = [MARGIN.left, width - MARGIN.right];
    this.baseScale.range(range);
    const span = this.baseScale.domain()[1];
    this.zoomBehavior
      .extent([
        [MARGIN.left, 0],
        [width - MARGIN.right, HEIGHT],
      ])
      .translateExtent([
        [MARGIN.left, 0],
        [width - MARGIN.right, HEIGHT],
      ])
      .scaleExtent([1, Math.max(1, span / FINEST_SPAN_NS)]);
    this.svg.selectAll('rect.lane').attr('width', range[1] - range[0]);
    this.scale = zoomTransform(this.svg.node()!).rescaleX(this.baseScale);
    this.place();
  }

  private place(): void {
    const x = this.scale;
    const [left, right] = x.range();
    const [start, end] = x.domain();
    const tick = axisTickFormat(end - start);
    this.marks
      .selectAll<SVGRectElement, TimelineEntry>('rect')
      .attr('x', (e) => x(e.t) - 1)
      .attr('width', 2)
      .attr('visibility', (e) => (x(e.t) < left - 1 || x(e.t) > right + 1 ? 'hidden' : 'visible'));
    this.axis.call(
      axisBottom(x)
        .ticks(Math.max(2, Math.floor((right - left) / 90)))
        .tickFormat((d) => tick(Number(d))),
    );
    this.placeCursor();
  }

  private placeCursor(): void {
    const cx = this.scale(this.time);
    const [left, right] = this.scale.range();
    this.cursor
      .attr('x1', cx)
      .attr('x2', cx)
      .attr('visibility', cx < left - 0.5 || cx > right + 0.5 ? 'hidden' : 'visible');
  }

  private click(event: MouseEvent): void {
    const target = event.target as Element;
    const entry = select<Element, TimelineEntry | undefined>(target).datum();
    if (target.classList.contains('mark') && entry !== undefined) {
      this.onPick(entry);
      return;
    }
    const [left, right] = this.scale.range();
    const px = Math.min(right, Math.max(left, event.offsetX));
    this.onScrub(Math.round(this.scale.invert(px)));
  }
}
