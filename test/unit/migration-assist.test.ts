// The controller's fetch for a migrated VM (seed 001 §2.B stage 2), calling MigrationAssist directly: a
// VIF port with an origin makes one fetch to that origin per (VIF, origin), retransmitted until
// acknowledged, stopped when the origin leaves the port or mastership is lost; a new master asks again.
import { describe, expect, test } from 'vitest';
import { MigrationAssist } from '../../sim/control/migration-assist.ts';
import type { Port } from '../../sim/dataplane/ports.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { Message, NodeContext, NodeId } from '../../sim/net/index.ts';
import { World } from '../../sim/testbed/world.ts';

class Controller {
  readonly assist: MigrationAssist;
  constructor(ctx: NodeContext) {
    this.assist = new MigrationAssist(ctx, { retryNs: 100 * NS_PER_MS });
  }
  onMessage(from: NodeId, body: Message): void {
    this.assist.onMessage(from, body);
  }
}

/** The origin host: logs fetches, and acknowledges them when told to. */
class Origin {
  readonly fetches: Message[] = [];
  ack = false;
  constructor(private readonly ctx: NodeContext) {}
  onMessage(from: NodeId, body: Message): void {
    this.fetches.push(body);
    if (this.ack) this.ctx.send(from, { type: 'mig.fetch-ack', vifId: body.vifId, to: body.to });
  }
}

const tunnel: Port = { kind: 'tunnel', number: 1000, remote: 'h1' };
const plain: Port = { kind: 'vif', number: 1, vifId: 'vif-1', vm: 'v1', mac: 1 };
const migrated: Port = { ...plain, origin: 'h1' };

function world() {
  const w = new World({ seed: 3, trace: 'off' });
  for (const c of ['c1', 'c2']) w.fabric.addNode(c, (ctx) => new Controller(ctx), { kind: 'controller' });
  w.fabric.addNode('h1', (ctx) => new Origin(ctx), { kind: 'host' });
  const assist = (c: string) => w.fabric.process<Controller>(c)!.assist;
  const origin = () => w.fabric.process<Origin>('h1')!;
  const at = (fn: () => void) => w.scheduler.after(0, fn);
  return { w, assist, origin, at };
}

describe('migration assist', () => {
  test('one fetch per (VIF, origin), retransmitted until acknowledged, then quiet', () => {
    const { w, assist, origin, at } = world();
    at(() => assist('c1').onPorts('h2', [tunnel, plain]));
    w.scheduler.runFor(500 * NS_PER_MS);
    expect(origin().fetches).toHaveLength(0);

    at(() => assist('c1').onPorts('h2', [tunnel, migrated]));
    at(() => assist('c1').onPorts('h2', [tunnel, migrated])); // the audit repeats the same ports
    w.scheduler.runFor(250 * NS_PER_MS);
    expect(origin().fetches.length).toBe(3); // first send, then two retransmits
    expect(origin().fetches[0]).toEqual({ type: 'mig.fetch', vifId: 'vif-1', vm: 'v1', to: 'h2' });

    origin().ack = true;
    w.scheduler.runFor(1000 * NS_PER_MS);
    const settled = origin().fetches.length;
    at(() => assist('c1').onPorts('h2', [tunnel, migrated]));
    w.scheduler.runFor(1000 * NS_PER_MS);
    expect(origin().fetches.length).toBe(settled);
  });

  test('the origin leaving the port, or mastership moving, stops the retransmits; the new master asks again', () => {
    const { w, assist, origin, at } = world();
    at(() => assist('c1').onPorts('h2', [migrated]));
    w.scheduler.runFor(50 * NS_PER_MS);
    at(() => assist('c1').onPorts('h2', [plain]));
    w.scheduler.runFor(1000 * NS_PER_MS);
    expect(origin().fetches).toHaveLength(1);

    at(() => assist('c1').onPorts('h3', [{ ...migrated, vifId: 'vif-3' }]));
    w.scheduler.runFor(50 * NS_PER_MS);
    at(() => assist('c1').forget('h3'));
    w.scheduler.runFor(1000 * NS_PER_MS);
    expect(origin().fetches).toHaveLength(2);

    // After the failover the new master sees the same port and asks on its own.
    origin().ack = true;
    at(() => assist('c2').onPorts('h3', [{ ...migrated, vifId: 'vif-3' }]));
    w.scheduler.runFor(1000 * NS_PER_MS);
    expect(origin().fetches).toHaveLength(3);
  });
});
