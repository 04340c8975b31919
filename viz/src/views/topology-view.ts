// The topology, drawn on one <canvas> (no element per node, so a 1,000-host trace stays smooth): nodes at
// their layout positions, each switch filled with its master's color, controllers in their own, VMs under
// their hosts; crashed nodes grey and crossed, partitioned ones outlined with dashes; tunnels, the selected
// node's mastership links and the selected packet's path on top. Level of detail: every tunnel only when
// there are few, labels only when marks are big enough on screen to carry them. Pan and zoom with d3-zoom.
// Owns the canvas and its zoom; reads the state it is given and never the trace.

import { select, zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import type { TunnelEdge, ViewState } from '../model/types.ts';
import type { PathEdge } from './packet-path.ts';
import { MARK_COLORS } from './palette.ts';
import { MARK_RADIUS, markShapeOf, traceMark, traceVm, VM_RADIUS, type MarkShape } from './node-marks.ts';
import { placeVms, VM_SPACING, type PlacedNode, type Point, type TopologyLayout } from './topology-layout.ts';

export interface TopologyFrame {
  readonly view: ViewState;
  readonly colors: ReadonlyMap<string, string>;
  /** The node or VM the user picked (its tunnels and mastership links are drawn). */
  readonly selected: string | null;
  /** Nodes to ring: those of the timeline events at this time and the selected packet's hops. */
  readonly highlighted: ReadonlySet<string>;
  /** The selected packet's moves between nodes and VMs. */
  readonly packetPath: readonly PathEdge[];
}

/** Above this many tunnels only the selected node's are drawn: a full mesh of 1,000 hosts is a grey smear. */
const ALL_TUNNELS_MAX = 2_000;
/** Labels appear when a mark is at least this many pixels across on screen. */
const LABEL_MIN_MARK_PX = 18;
const VM_LABEL_MIN_SPACING_PX = 34;
/** Between a mark and its label: clear of the partition outline drawn around the mark. */
const LABEL_GAP_PX = 10;
/** How far outside a mark, in screen pixels, a click still picks it. */
const HIT_SLACK_PX = 3;

export class TopologyView {
  private layout: TopologyLayout | null = null;
  private tunnels: readonly TunnelEdge[] = [];
  /** Each node's tunnels, so drawing the selected node's does not scan a full mesh every frame. */
  private tunnelsByNode = new Map<string, TunnelEdge[]>();
  private frame: TopologyFrame | null = null;
  private vmPositions = new Map<string, Point>();
  private transform: ZoomTransform = zoomIdentity;
  private readonly zoomBehavior: ZoomBehavior<HTMLCanvasElement, unknown>;
  private drawQueued = false;
  /** Until the user pans or zooms, a resize refits the drawing to the canvas. */
  private userMoved = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onSelect: (id: string | null) => void,
  ) {
    this.zoomBehavior = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([0.01, 40])
      .on('zoom', (event: { transform: ZoomTransform; sourceEvent: Event | null }) => {
        this.transform = event.transform;
        if (event.sourceEvent !== null) this.userMoved = true;
        this.queueDraw();
      });
    select(canvas).call(this.zoomBehavior).on('dblclick.zoom', null);
    canvas.addEventListener('click', (event) => this.onSelect(this.hit(event.offsetX, event.offsetY)));
    canvas.addEventListener('dblclick', () => this.fit());
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  /** A new trace: its layout and tunnels, fitted to the canvas. */
  setTrace(layout: TopologyLayout, tunnels: readonly TunnelEdge[]): void {
    this.layout = layout;
    this.tunnels = tunnels;
    this.tunnelsByNode = new Map();
    for (const edge of tunnels) {
      for (const end of [edge.a, edge.b]) {
        const list = this.tunnelsByNode.get(end);
        if (list === undefined) this.tunnelsByNode.set(end, [edge]);
        else list.push(edge);
      }
    }
    this.frame = null;
    this.fit();
  }

  show(frame: TopologyFrame): void {
    this.frame = frame;
    if (this.layout !== null) this.vmPositions = placeVms(this.layout, frame.view.nodes.vms, frame.view.vmHost);
    this.queueDraw();
  }

  /** Fits the whole layout to the canvas (double-click does the same). */
  fit(): void {
    this.userMoved = false;
    const layout = this.layout;
    const { width, height } = this.cssSize();
    if (layout === null || width === 0 || height === 0) return;
    const b = layout.bounds;
    const margin = 40;
    const spanX = b.maxX - b.minX + 2 * margin;
    const spanY = b.maxY - b.minY + 2 * margin;
    const k = Math.min(width / spanX, height / spanY, 2.5);
    const t = zoomIdentity.translate(width / 2 - k * (b.minX + b.maxX) / 2, height / 2 - k * (b.minY + b.maxY) / 2).scale(k);
    select(this.canvas).call(this.zoomBehavior.transform, t);
  }

  private cssSize(): { width: number; height: number } {
    return { width: this.canvas.clientWidth, height: this.canvas.clientHeight };
  }

  private resize(): void {
    const { width, height } = this.cssSize();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    if (this.userMoved) this.queueDraw();
    else this.fit();
  }

  private queueDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  private positionOf(id: string): Point | undefined {
    return this.layout?.byId.get(id) ?? this.vmPositions.get(id);
  }

  /**
   * The VM or node under a point of the canvas (CSS pixels): of the marks within reach, the one whose edge
   * is nearest, so a click between a host and its VMs picks what it is closest to.
   */
  private hit(px: number, py: number): string | null {
    if (this.layout === null || this.frame === null) return null;
    const [x, y] = this.transform.invert([px, py]);
    const reach = HIT_SLACK_PX / this.transform.k;
    let best: string | null = null;
    let bestGap = reach;
    const consider = (id: string, at: Point, radius: number) => {
      const gap = Math.hypot(at.x - x, at.y - y) - radius;
      if (gap <= bestGap) {
        best = id;
        bestGap = gap;
      }
    };
    for (const [vm, p] of this.vmPositions) consider(vm, p, VM_RADIUS);
    const visible = this.visibleNodes();
    for (const node of this.layout.nodes) if (visible(node)) consider(node.id, node, MARK_RADIUS[markShapeOf(node.role)]);
    return best;
  }

  /** Controllers and switches appear once they have started; other nodes are always shown. */
  private visibleNodes(): (node: PlacedNode) => boolean {
    const view = this.frame!.view;
    const known = new Set([...view.nodes.controllers, ...view.nodes.switches]);
    return (node) => (node.role === 'controller' || node.role === 'host' || node.role === 'pool' || node.role === 'gateway' ? known.has(node.id) : true);
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) return;
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const layout = this.layout;
    const frame = this.frame;
    if (layout === null || frame === null) return;
    const t = this.transform;
    ctx.setTransform(ratio * t.k, 0, 0, ratio * t.k, ratio * t.x, ratio * t.y);
    const px = 1 / t.k; // one screen pixel in layout units
    const visible = this.visibleNodes();
    const crashed = new Set(frame.view.crashed);
    const partitioned = new Set(frame.view.partitions.flatMap((p) => p.groups.flat()));

    this.drawTunnels(ctx, frame, visible, px);
    this.drawMastershipLinks(ctx, frame, px);
    this.drawPacketPath(ctx, frame, px);

    // Nodes go in batches of one shape and one fill, so a thousand switches cost a few fills, not a thousand.
    const batches = new Map<string, { shape: MarkShape; fill: string; nodes: PlacedNode[] }>();
    const shown = layout.nodes.filter(visible);
    for (const node of shown) {
      const shape = markShapeOf(node.role);
      this.drawHalo(ctx, frame, node.id, node, MARK_RADIUS[shape], px);
      const fill = crashed.has(node.id) ? MARK_COLORS.down : fillOf(node, shape, frame);
      const key = `${shape} ${fill}`;
      const batch = batches.get(key);
      if (batch === undefined) batches.set(key, { shape, fill, nodes: [node] });
      else batch.nodes.push(node);
    }
    ctx.lineWidth = 1.2 * px;
    ctx.strokeStyle = MARK_COLORS.outline;
    for (const { shape, fill, nodes } of batches.values()) {
      ctx.beginPath();
      for (const node of nodes) traceMark(ctx, shape, node.x, node.y);
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.stroke();
    }
    ctx.beginPath();
    for (const node of shown) {
      const shape = markShapeOf(node.role);
      if (partitioned.has(node.id)) traceMark(ctx, shape, node.x, node.y, 1 + (6 * px) / MARK_RADIUS[shape]);
    }
    ctx.lineWidth = 2.5 * px;
    ctx.strokeStyle = MARK_COLORS.partitionOutline;
    ctx.setLineDash([5 * px, 3 * px]);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    for (const node of shown) if (crashed.has(node.id)) traceCross(ctx, node, MARK_RADIUS[markShapeOf(node.role)] * 0.75);
    ctx.lineWidth = 2.5 * px;
    ctx.strokeStyle = MARK_COLORS.downCross;
    ctx.stroke();

    this.drawVms(ctx, frame, crashed, px);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.drawLabels(ctx, visible);
  }

  private drawTunnels(ctx: CanvasRenderingContext2D, frame: TopologyFrame, visible: (n: PlacedNode) => boolean, px: number): void {
    const byId = this.layout!.byId;
    const focus = frame.selected;
    const stroke = (edges: Iterable<TunnelEdge>, emphasised: boolean) => {
      ctx.beginPath();
      for (const edge of edges) {
        const a = byId.get(edge.a);
        const b = byId.get(edge.b);
        if (a === undefined || b === undefined || !visible(a) || !visible(b)) continue;
        traceBow(ctx, a, b);
      }
      ctx.lineWidth = (emphasised ? 2 : 1) * px;
      ctx.strokeStyle = emphasised ? MARK_COLORS.tunnelSelected : MARK_COLORS.tunnel;
      ctx.stroke();
    };
    if (this.tunnels.length <= ALL_TUNNELS_MAX) stroke(this.tunnels.filter((e) => e.a !== focus && e.b !== focus), false);
    if (focus !== null) stroke(this.tunnelsByNode.get(focus) ?? [], true);
  }

  /** The selected controller's links to what it masters, or the selected switch's link to its master. */
  private drawMastershipLinks(ctx: CanvasRenderingContext2D, frame: TopologyFrame, px: number): void {
    const selected = frame.selected;
    if (selected === null) return;
    const masterOf = frame.view.masterOf;
    const pairs: [string, string][] = frame.colors.has(selected)
      ? Object.keys(masterOf)
          .filter((sw) => masterOf[sw] === selected)
          .map((sw) => [selected, sw])
      : masterOf[selected] !== undefined
        ? [[masterOf[selected], selected]]
        : [];
    for (const [controller, sw] of pairs) {
      const a = this.positionOf(controller);
      const b = this.positionOf(sw);
      if (a === undefined || b === undefined) continue;
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.lineWidth = 2 * px;
      ctx.strokeStyle = frame.colors.get(controller) ?? MARK_COLORS.outline;
      ctx.setLineDash([6 * px, 4 * px]);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  private drawPacketPath(ctx: CanvasRenderingContext2D, frame: TopologyFrame, px: number): void {
    ctx.lineWidth = 3 * px;
    ctx.strokeStyle = MARK_COLORS.packetPath;
    for (const edge of frame.packetPath) {
      const a = this.positionOf(edge.from);
      const b = this.positionOf(edge.to);
      if (a === undefined || b === undefined) continue;
      ctx.beginPath();
      traceBow(ctx, a, b);
      ctx.stroke();
      arrowHead(ctx, a, b, px);
    }
  }

  private drawHalo(ctx: CanvasRenderingContext2D, frame: TopologyFrame, id: string, at: Point, radius: number, px: number): void {
    const selected = frame.selected === id;
    if (!selected && !frame.highlighted.has(id)) return;
    ctx.beginPath();
    ctx.moveTo(at.x + radius + 6 * px, at.y);
    ctx.arc(at.x, at.y, radius + 6 * px, 0, 2 * Math.PI);
    ctx.lineWidth = 4 * px;
    ctx.strokeStyle = selected ? MARK_COLORS.selected : MARK_COLORS.highlighted;
    ctx.stroke();
  }

  private drawVms(ctx: CanvasRenderingContext2D, frame: TopologyFrame, crashed: ReadonlySet<string>, px: number): void {
    const vmHost = frame.view.vmHost;
    // Under about a pixel a dot looks like a square, and squares are much cheaper to fill.
    const tiny = VM_RADIUS < 1.2 * px;
    // Two batches (running, down) so thousands of VMs cost two fills, not thousands.
    for (const down of [false, true]) {
      ctx.beginPath();
      for (const [vm, p] of this.vmPositions) {
        const host = vmHost[vm];
        if ((crashed.has(vm) || (host !== undefined && crashed.has(host))) !== down) continue;
        if (tiny) ctx.rect(p.x - VM_RADIUS, p.y - VM_RADIUS, 2 * VM_RADIUS, 2 * VM_RADIUS);
        else traceVm(ctx, p.x, p.y);
      }
      ctx.fillStyle = down ? MARK_COLORS.down : MARK_COLORS.vm;
      ctx.fill();
      if (tiny) continue;
      ctx.lineWidth = 0.8 * px;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
    }
    for (const [vm, p] of this.vmPositions) this.drawHalo(ctx, frame, vm, p, VM_RADIUS, px);
  }

  /** Labels in screen space, so their text stays one size at any zoom. */
  private drawLabels(ctx: CanvasRenderingContext2D, visible: (n: PlacedNode) => boolean): void {
    const t = this.transform;
    const { width, height } = this.cssSize();
    const onScreen = (x: number, y: number) => x > -50 && y > -20 && x < width + 50 && y < height + 20;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillStyle = MARK_COLORS.label;
    if (2 * MARK_RADIUS.switch * t.k >= LABEL_MIN_MARK_PX) {
      for (const node of this.layout!.nodes) {
        if (!visible(node)) continue;
        const [x, y] = t.apply([node.x, node.y]);
        if (!onScreen(x, y)) continue;
        const shape: MarkShape = markShapeOf(node.role);
        // Hosts carry their VMs underneath, so their label goes above.
        if (shape === 'switch') {
          ctx.textBaseline = 'bottom';
          ctx.fillText(node.id, x, y - MARK_RADIUS.switch * t.k - LABEL_GAP_PX);
          ctx.textBaseline = 'top';
        } else ctx.fillText(node.id, x, y + MARK_RADIUS[shape] * t.k + LABEL_GAP_PX);
      }
    }
    if (VM_SPACING * t.k >= VM_LABEL_MIN_SPACING_PX) {
      ctx.font = '10px system-ui, sans-serif';
      ctx.fillStyle = MARK_COLORS.vm;
      for (const [vm, p] of this.vmPositions) {
        const [x, y] = t.apply([p.x, p.y]);
        if (onScreen(x, y)) ctx.fillText(vm, x, y + VM_RADIUS * t.k + 2);
      }
    }
  }
}

function fillOf(node: PlacedNode, shape: MarkShape, frame: TopologyFrame): string {
  if (shape === 'controller') return frame.colors.get(node.id) ?? MARK_COLORS.noMaster;
  if (shape === 'service' || shape === 'segment') return MARK_COLORS.unmastered;
  const master = frame.view.masterOf[node.id];
  return master === undefined ? MARK_COLORS.noMaster : (frame.colors.get(master) ?? MARK_COLORS.noMaster);
}

function traceCross(ctx: CanvasRenderingContext2D, at: Point, r: number): void {
  ctx.moveTo(at.x - r, at.y - r);
  ctx.lineTo(at.x + r, at.y + r);
  ctx.moveTo(at.x + r, at.y - r);
  ctx.lineTo(at.x - r, at.y + r);
}

/** How far a link bows out of line, as a share of its length. */
const BOW = 0.15;

function bowControl(from: Point, to: Point): Point {
  return { x: (from.x + to.x) / 2 + BOW * (to.y - from.y), y: (from.y + to.y) / 2 - BOW * (to.x - from.x) };
}

/**
 * A link as a slight arc rather than a straight line: in a grid, a straight link between two hosts of one
 * row would run through every host between them and look like a chain of links.
 */
function traceBow(ctx: CanvasRenderingContext2D, from: Point, to: Point): void {
  const c = bowControl(from, to);
  ctx.moveTo(from.x, from.y);
  ctx.quadraticCurveTo(c.x, c.y, to.x, to.y);
}

/** An arrowhead at the middle of the bowed link from `from` to `to` (where its tangent is parallel to the chord). */
function arrowHead(ctx: CanvasRenderingContext2D, from: Point, to: Point, px: number): void {
  const angle = Math.atan2(to.y - from.y, to.x - from.x);
  const c = bowControl(from, to);
  const mid = { x: (from.x + 2 * c.x + to.x) / 4, y: (from.y + 2 * c.y + to.y) / 4 };
  const size = 9 * px;
  ctx.beginPath();
  ctx.moveTo(mid.x + size * Math.cos(angle), mid.y + size * Math.sin(angle));
  ctx.lineTo(mid.x + size * Math.cos(angle + 2.5), mid.y + size * Math.sin(angle + 2.5));
  ctx.lineTo(mid.x + size * Math.cos(angle - 2.5), mid.y + size * Math.sin(angle - 2.5));
  ctx.closePath();
  ctx.fillStyle = MARK_COLORS.packetPath;
  ctx.fill();
}
