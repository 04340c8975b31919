// State gaps at a migration's destination (seed 001 §2.B edge case): from expectState until the VM's
// state is installed or the gap times out, packets of the VM that match no connection meet the gap's
// policy; with 'buffer' they are held (up to a limit) and retried in arrival order when the gap ends.
// Owns the open gaps, their timers, held continuations and per-VM counts; not what a packet's verdict is.

import type { NodeContext, TimerHandle } from '../net/node.ts';
import type { Nanos } from '../kernel/time.ts';
import type { StateGapPolicy } from './vm-state.ts';
import './trace-events.ts';

interface Gap {
  policy: StateGapPolicy;
  timer: TimerHandle;
  buffered: number;
  readonly held: (() => void)[];
}

export class StateGaps {
  private readonly open = new Map<number, Gap>();
  /** Packets that met a gap, per VM, over the element's life. */
  private readonly counted = new Map<number, number>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly timeoutNs: Nanos,
    private readonly bufferLimit: number,
  ) {}

  /** Opens a gap, or restarts an open one's timeout with the new policy (its held packets stay held). */
  start(vmKey: number, policy: StateGapPolicy): void {
    const gap = this.open.get(vmKey);
    const timer = this.ctx.setTimer(this.timeoutNs, () => this.end(vmKey, 'timeout'));
    if (gap === undefined) this.open.set(vmKey, { policy, timer, buffered: 0, held: [] });
    else {
      this.ctx.cancelTimer(gap.timer);
      gap.policy = policy;
      gap.timer = timer;
    }
    if (this.ctx.trace.active) this.ctx.trace.emit('mb.gap', { node: this.ctx.id, vmKey, policy, event: 'open' });
  }

  policyOf(vmKey: number): StateGapPolicy | undefined {
    return this.open.get(vmKey)?.policy;
  }

  count(vmKey: number): void {
    this.counted.set(vmKey, (this.counted.get(vmKey) ?? 0) + 1);
  }

  packetsOf(vmKey: number): number {
    return this.counted.get(vmKey) ?? 0;
  }

  totalPackets(): number {
    let n = 0;
    for (const c of this.counted.values()) n += c;
    return n;
  }

  /** Takes one more packet into the VM's buffer if there is room. */
  admit(vmKey: number): boolean {
    const gap = this.open.get(vmKey);
    if (gap === undefined || gap.buffered >= this.bufferLimit) return false;
    gap.buffered++;
    return true;
  }

  /** Keeps a buffered packet's retry; with no gap open any more it is retried at once (as a new event). */
  hold(vmKey: number, retry: () => void): void {
    const gap = this.open.get(vmKey);
    if (gap === undefined) this.ctx.setTimer(0, retry);
    else gap.held.push(retry);
  }

  /** Ends the VM's gap, if open, and retries its held packets in arrival order. */
  end(vmKey: number, event: 'close' | 'timeout'): void {
    const gap = this.open.get(vmKey);
    if (gap === undefined) return;
    this.open.delete(vmKey);
    this.ctx.cancelTimer(gap.timer);
    if (this.ctx.trace.active) this.ctx.trace.emit('mb.gap', { node: this.ctx.id, vmKey, policy: gap.policy, event });
    for (const retry of gap.held) retry();
  }
}
