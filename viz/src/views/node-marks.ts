// The shape of each kind of node, traced onto anything with canvas-style path methods: the topology's
// canvas and the legend's d3.path (SVG) both use it, so the legend shows exactly what the canvas draws.
// Owns shapes and their sizes in layout units; colors are controller-colors.ts's, placement the layout's.

import type { NodeRole } from '../model/types.ts';

/** The path methods shared by CanvasRenderingContext2D and d3.path(). */
export interface MarkPath {
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, radius: number, startAngle: number, endAngle: number): void;
  closePath(): void;
  rect(x: number, y: number, w: number, h: number): void;
}

export type MarkShape = 'controller' | 'switch' | 'pool' | 'gateway' | 'segment' | 'service';

export function markShapeOf(role: NodeRole): MarkShape {
  switch (role) {
    case 'controller':
      return 'controller';
    case 'host':
      return 'switch';
    case 'pool':
    case 'gateway':
    case 'segment':
      return role;
    default:
      return 'service';
  }
}

/** Half the size of each shape: how far from the centre a click still hits it, and where labels go. */
export const MARK_RADIUS: Readonly<Record<MarkShape, number>> = { controller: 16, switch: 14, pool: 18, gateway: 17, segment: 24, service: 13 };
export const VM_RADIUS = 4.5;

/** Traces the closed outline of `shape` centred on (x, y), `scale` times its layout size. */
export function traceMark(path: MarkPath, shape: MarkShape, x: number, y: number, scale = 1): void {
  const r = MARK_RADIUS[shape] * scale;
  switch (shape) {
    case 'controller':
      path.moveTo(x + r, y);
      path.arc(x, y, r, 0, 2 * Math.PI);
      break;
    case 'switch':
      path.rect(x - r, y - r, 2 * r, 2 * r);
      break;
    case 'pool':
      polygon(path, x, y, r, 4, 0);
      break;
    case 'gateway':
      polygon(path, x, y, r, 6, Math.PI / 6);
      break;
    case 'service':
      polygon(path, x, y, r, 3, -Math.PI / 2);
      break;
    case 'segment': {
      // A pill: wide enough to read as a network rather than a machine.
      const h = r * 0.45;
      path.moveTo(x - r + h, y - h);
      path.lineTo(x + r - h, y - h);
      path.arc(x + r - h, y, h, -Math.PI / 2, Math.PI / 2);
      path.lineTo(x - r + h, y + h);
      path.arc(x - r + h, y, h, Math.PI / 2, (3 * Math.PI) / 2);
      break;
    }
  }
  path.closePath();
}

function polygon(path: MarkPath, x: number, y: number, r: number, sides: number, rotation: number): void {
  for (let i = 0; i < sides; i++) {
    const a = rotation + (2 * Math.PI * i) / sides;
    const px = x + r * Math.cos(a);
    const py = y + r * Math.sin(a);
    if (i === 0) path.moveTo(px, py);
    else path.lineTo(px, py);
  }
}

/** A VM's dot. */
export function traceVm(path: MarkPath, x: number, y: number, scale = 1): void {
  path.moveTo(x + VM_RADIUS * scale, y);
  path.arc(x, y, VM_RADIUS * scale, 0, 2 * Math.PI);
}
