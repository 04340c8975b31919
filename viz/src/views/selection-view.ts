// What is true of the selected node or VM at the time shown (#selection): its role, whether it is down or
// partitioned, its master or what it masters, its VMs, flows and tunnels. Owns that panel; every line is
// plain text.

import { select } from 'd3';
import type { TraceModel, ViewState } from '../model/types.ts';
import { valueAt } from './flow-series.ts';

export class SelectionView {
  /** The lines last drawn, so frames of playback that change nothing here leave the DOM alone. */
  private drawnFrom = '';
  /** Tunnels per node, counted once per trace rather than on every frame. */
  private tunnelCounts = new Map<string, number>();

  constructor(private readonly container: HTMLElement) {}

  setTrace(model: TraceModel): void {
    this.tunnelCounts = new Map();
    for (const { a, b } of model.tunnels) for (const end of [a, b]) this.tunnelCounts.set(end, (this.tunnelCounts.get(end) ?? 0) + 1);
  }

  show(model: TraceModel, view: ViewState, selected: string | null): void {
    const lines = selected === null ? [] : describe(model, view, selected, this.tunnelCounts.get(selected) ?? 0);
    const key = lines.join('\n');
    if (key === this.drawnFrom) return;
    this.drawnFrom = key;
    select(this.container)
      .selectAll('p')
      .data(lines)
      .join('p')
      .text((d) => d);
  }
}

function describe(model: TraceModel, view: ViewState, id: string, tunnels: number): string[] {
  const node = model.nodes.find((n) => n.id === id);
  const isVm = node === undefined && view.nodes.vms.includes(id);
  const lines = [`${id} · ${isVm ? 'VM' : (node?.kind ?? 'not started yet')}`];
  if (view.crashed.includes(id)) lines.push('down');
  const partitions = view.partitions.filter((p) => p.groups.some((g) => g.includes(id)));
  if (partitions.length > 0) lines.push(`partitioned (${partitions.map((p) => p.id).join(', ')})`);
  if (isVm) {
    lines.push(view.vmHost[id] === undefined ? 'detached' : `on ${view.vmHost[id]}`);
    return lines;
  }
  if (node?.role === 'controller') {
    const switches = Object.keys(view.masterOf).filter((sw) => view.masterOf[sw] === id);
    const ldpses = Object.keys(view.ldpsMasterOf).filter((l) => view.ldpsMasterOf[l] === id);
    lines.push(`masters ${switches.length} switch${switches.length === 1 ? '' : 'es'}${switches.length > 0 ? `: ${abbreviate(switches)}` : ''}`);
    if (ldpses.length > 0) lines.push(`LDPS master of ${abbreviate(ldpses)}`);
    return lines;
  }
  if (view.nodes.switches.includes(id)) {
    lines.push(`master: ${view.masterOf[id] ?? 'none'}`);
    const vms = view.nodes.vms.filter((vm) => view.vmHost[vm] === id);
    lines.push(`VMs: ${vms.length === 0 ? 'none' : abbreviate(vms)}`);
    const flows = model.charts.flowsPerSwitch[id];
    if (flows !== undefined) lines.push(`flows installed: ${valueAt(flows, view.time)}`);
    lines.push(`tunnels: ${tunnels}`);
  }
  return lines;
}

/** At most a dozen names, then how many more. */
function abbreviate(names: readonly string[]): string {
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `${shown} and ${names.length - 12} more` : shown;
}
