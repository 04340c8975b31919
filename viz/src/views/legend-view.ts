// The legend (#legend): one swatch per controller in its color, then every mark the topology uses, each
// drawn with the same shapes (node-marks.ts) and colors (palette.ts) as the canvas. Owns the legend's
// elements; names come from the trace, so they go in as text only.

import { path as d3Path, select } from 'd3';
import { traceMark, traceVm, type MarkShape } from './node-marks.ts';
import { MARK_COLORS } from './palette.ts';

interface LegendItem {
  readonly label: string;
  /** Draws the swatch into a 24×24 SVG centred on (12, 12). */
  readonly draw: (svg: SVGSVGElement) => void;
}

const SWATCH = 24;
const CENTRE = SWATCH / 2;

/** `shapes`: the kinds of node the trace has; the legend shows only those, and the marks every trace can show. */
export function renderLegend(container: HTMLElement, controllerColors: ReadonlyMap<string, string>, shapes: ReadonlySet<MarkShape>): void {
  const firstColor = controllerColors.values().next().value;
  const nodeItems: [MarkShape, LegendItem][] = [
    ['switch', { label: 'switch, filled with its master', draw: mark('switch', firstColor ?? MARK_COLORS.noMaster) }],
    ['switch', { label: 'no master', draw: mark('switch', MARK_COLORS.noMaster) }],
    ['pool', { label: 'pool node', draw: mark('pool', MARK_COLORS.noMaster) }],
    ['gateway', { label: 'gateway', draw: mark('gateway', MARK_COLORS.noMaster) }],
    ['segment', { label: 'segment', draw: mark('segment', MARK_COLORS.unmastered) }],
    ['service', { label: 'other node', draw: mark('service', MARK_COLORS.unmastered) }],
  ];
  const items: LegendItem[] = [
    ...[...controllerColors].map(([id, color]) => ({ label: id, draw: mark('controller', color) })),
    ...nodeItems.filter(([shape]) => shapes.has(shape)).map(([, item]) => item),
    { label: 'VM', draw: vm },
    { label: 'down (crashed)', draw: down },
    { label: 'partitioned', draw: partitioned },
    { label: 'tunnel', draw: line(MARK_COLORS.tunnelSelected, 2, []) },
    { label: 'packet path', draw: line(MARK_COLORS.packetPath, 3, []) },
    { label: 'mastership (selected)', draw: line(firstColor ?? MARK_COLORS.outline, 2, [5, 3]) },
    { label: 'selected', draw: ring(MARK_COLORS.selected) },
    { label: 'event or hop', draw: ring(MARK_COLORS.highlighted) },
  ];
  const rows = select(container)
    .selectAll<HTMLDivElement, LegendItem>('div.legend-item')
    .data(items)
    .join((enter) => {
      const row = enter.append('div').attr('class', 'legend-item');
      row.append('svg').attr('width', SWATCH).attr('height', SWATCH).attr('aria-hidden', 'true');
      row.append('span');
      return row;
    });
  rows.select('span').text((d) => d.label);
  rows.select<SVGSVGElement>('svg').each(function (d) {
    select(this).selectAll('*').remove();
    d.draw(this);
  });
}

function shapePath(shape: MarkShape, scale = 0.6): string {
  const p = d3Path();
  traceMark(p, shape, CENTRE, CENTRE, scale);
  return p.toString();
}

function mark(shape: MarkShape, fill: string) {
  return (svg: SVGSVGElement) => {
    select(svg).append('path').attr('d', shapePath(shape, shape === 'segment' ? 0.45 : 0.6)).attr('fill', fill).attr('stroke', MARK_COLORS.outline);
  };
}

function vm(svg: SVGSVGElement): void {
  const p = d3Path();
  traceVm(p, CENTRE, CENTRE, 1.2);
  select(svg).append('path').attr('d', p.toString()).attr('fill', MARK_COLORS.vm);
}

function down(svg: SVGSVGElement): void {
  mark('switch', MARK_COLORS.down)(svg);
  select(svg).append('path').attr('d', 'M6,6L18,18M18,6L6,18').attr('stroke', MARK_COLORS.downCross).attr('stroke-width', 2);
}

function partitioned(svg: SVGSVGElement): void {
  mark('switch', MARK_COLORS.noMaster)(svg);
  select(svg).append('path').attr('d', shapePath('switch', 0.8)).attr('fill', 'none').attr('stroke', MARK_COLORS.partitionOutline).attr('stroke-width', 1.5).attr('stroke-dasharray', '3 2');
}

function line(color: string, width: number, dash: number[]) {
  return (svg: SVGSVGElement) => {
    select(svg).append('line').attr('x1', 2).attr('y1', CENTRE).attr('x2', SWATCH - 2).attr('y2', CENTRE).attr('stroke', color).attr('stroke-width', width).attr('stroke-dasharray', dash.join(' '));
  };
}

function ring(color: string) {
  return (svg: SVGSVGElement) => {
    select(svg).append('circle').attr('cx', CENTRE).attr('cy', CENTRE).attr('r', 8).attr('fill', 'none').attr('stroke', color).attr('stroke-width', 3);
  };
}
