// The controller's part in a migration without pre-notification (seed 001 §2.B/§2.D stage 2): when an
// instance that masters a switch learns its ports and a VIF port carries `origin` (the VM migrated in from
// that host and its middlebox state has not followed), it asks the origin host's migration manager to
// fetch the state and send it to the switch's host. Owns that request and its retransmission; not the
// state transfer (sim/migration) nor where the ports come from (the instance's hello, port-status and audit).
//
// Once per (VIF, origin) per incarnation of this instance, retransmitted until the origin acknowledges,
// while this instance still masters the switch and the port still names the origin. A new master (after a
// failover, or this one restarted) asks again: the origin answers duplicates without a second transfer.

import type { Port } from '../dataplane/ports.ts';
import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeContext, NodeId } from '../net/index.ts';
import type { MigFetch, MigFetchAck } from '../migration/messages.ts';

export interface MigrationAssistOptions {
  /** How often an unacknowledged fetch is sent again. */
  readonly retryNs: Nanos;
}

export const DEFAULT_MIGRATION_ASSIST: MigrationAssistOptions = { retryNs: 200_000_000 };

interface Pending {
  readonly switchId: NodeId;
  readonly fetch: MigFetch;
  readonly origin: NodeId;
  timer: number | null;
}

const keyOf = (vifId: string, origin: NodeId) => `${vifId}\u0000${origin}`;

export class MigrationAssist {
  private readonly options: MigrationAssistOptions;
  /** Every (VIF, origin) asked for in this incarnation. */
  private readonly asked = new Set<string>();
  /** Those not acknowledged yet. */
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly ctx: NodeContext,
    options: Partial<MigrationAssistOptions> = {},
  ) {
    this.options = { ...DEFAULT_MIGRATION_ASSIST, ...options };
    if (!(this.options.retryNs > 0)) throw new Error(`migration assist: retryNs must be > 0, got ${this.options.retryNs}`);
  }

  /** The ports of a switch this instance masters, as just reported (hello, port-status or audit). */
  onPorts(switchId: NodeId, ports: readonly Port[]): void {
    const present = new Set<string>();
    for (const port of ports) {
      if (port.kind !== 'vif' || port.origin === undefined) continue;
      const key = keyOf(port.vifId, port.origin);
      present.add(key);
      if (this.asked.has(key)) continue;
      this.asked.add(key);
      const pending: Pending = { switchId, origin: port.origin, fetch: { type: 'mig.fetch', vifId: port.vifId, vm: port.vm, to: switchId }, timer: null };
      this.pending.set(key, pending);
      this.send(key, pending);
    }
    // The handoff finished (the origin is off the port) or the VIF left: nothing more to ask.
    for (const [key, p] of this.pending) if (p.switchId === switchId && !present.has(key)) this.drop(key);
  }

  /** This instance no longer masters the switch: its new master asks from now on (and this one again if it is back). */
  forget(switchId: NodeId): void {
    for (const [key, p] of this.pending) {
      if (p.switchId !== switchId) continue;
      this.drop(key);
      this.asked.delete(key);
    }
  }

  /** Fetch acknowledgements; false for any other message. */
  onMessage(_from: NodeId, body: Message): boolean {
    if (body.type !== 'mig.fetch-ack') return false;
    const ack = body as unknown as MigFetchAck;
    for (const [key, p] of this.pending) if (p.fetch.vifId === ack.vifId && p.switchId === ack.to) this.drop(key);
    return true;
  }

  private send(key: string, p: Pending): void {
    this.ctx.send(p.origin, p.fetch);
    p.timer = this.ctx.setTimer(this.options.retryNs, () => {
      if (this.pending.get(key) === p) this.send(key, p);
    });
  }

  private drop(key: string): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    if (p.timer !== null) this.ctx.cancelTimer(p.timer);
    this.pending.delete(key);
  }
}
