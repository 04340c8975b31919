// A synthetic trace of any size, for the trace model's and the page's tests and benchmarks: hosts on a
// tunnel ring, one VM each, a controller cluster that splits the switches between its instances, flows,
// VM-to-VM packets (every 50 ms by default), a migration, a crash of ctl-1 with re-election and a restart, and a short
// partition. Every line is what the simulator would write for such a world (the same record types and
// fields), in time order; the choices that vary (packet destinations, drops, flow churn) come from the
// seed, so the same options always give the same text. Owns only the generation; it runs no simulation.

import { Rng } from '../../../sim/kernel/rng.ts';

export interface SyntheticOptions {
  /** At least 2. */
  readonly hosts: number;
  /** At least 1. */
  readonly controllers: number;
  /** Virtual length of the run; at least 4. */
  readonly seconds: number;
  readonly seed: number;
  /** How often every VM sends a packet (default 50 ms); a larger interval makes a lighter trace. */
  readonly packetIntervalMs?: number;
}

const MS = 1_000_000;
const S = 1_000_000_000;
const DEFAULT_PACKET_INTERVAL_MS = 50;
const ECHO_INTERVAL_NS = 500 * MS;
const HOP_DELAY_NS = 1 * MS;
const VIF_PORT = 1;
const TUNNEL_PORT = 1000;
const BASE_IP = 0x0a000001;
const BASE_MAC = 0x020000000000;
/** One packet in this many is dropped at the receiving switch. */
const DROP_ONE_IN = 64;
const CHURN_FLOWS = 3;

interface Action {
  readonly t: number;
  readonly order: number;
  readonly run: () => void;
}

interface InFlight {
  readonly packetId: number;
  readonly dst: number;
  /** As JSON. */
  readonly headers: string;
}

/** The trace as `nvsim run` would write it (one JSON record a line, each ending in "\n"). */
export function syntheticTrace(options: SyntheticOptions): string {
  const { hosts, controllers, seconds, seed } = options;
  const packetIntervalNs = (options.packetIntervalMs ?? DEFAULT_PACKET_INTERVAL_MS) * MS;
  if (!(Number.isInteger(packetIntervalNs) && packetIntervalNs > 0)) throw new Error(`syntheticTrace needs a positive packet interval, got ${options.packetIntervalMs} ms`);
  if (!(Number.isInteger(hosts) && hosts >= 2)) throw new Error(`syntheticTrace needs at least 2 hosts, got ${hosts}`);
  if (!(Number.isInteger(controllers) && controllers >= 1)) throw new Error(`syntheticTrace needs at least 1 controller, got ${controllers}`);
  if (!(Number.isInteger(seconds) && seconds >= 4)) throw new Error(`syntheticTrace needs at least 4 seconds, got ${seconds}`);
  const rng = new Rng(`synthetic/${seed}`);
  const untilNs = seconds * S;
  // The lines of the action running now; each action's lines are joined into one chunk when it ends, so a
  // million short-lived strings do not all stay alive until the end.
  const lines: string[] = [];
  const chunks: string[] = [];
  let lineCount = 0;
  const emit = (t: number, type: string, fields: object): void => {
    lines.push(JSON.stringify({ t, type, ...fields }));
  };

  const host = (i: number) => `h${i + 1}`;
  const vm = (i: number) => `vm${i + 1}`;
  const ctl = (c: number) => `ctl-${c + 1}`;
  const tenantOf = (i: number) => i % controllers;
  const baseFlows = (i: number): [string, string][] => {
    const md = tenantOf(i) + 1;
    const cookie = `dp:${md}`;
    return [
      [`0/100/inPort=${VIF_PORT}`, cookie],
      [`0/50/tunKey=${md}`, cookie],
      [`10/50/metadata=${md}`, cookie],
      [`20/100/metadata=${md},reg7=1`, cookie],
      [`30/0/metadata=${md}`, cookie],
    ];
  };
  const churnFlow = (i: number, k: number) => `40/10/metadata=${tenantOf(i) + 1},reg7=${k}`;

  // World state, as the actions below change it in time order.
  const masterOf: string[] = [];
  const vmHost: number[] = Array.from({ length: hosts }, (_, i) => i);
  const stunned = new Set<number>();
  const crashed = new Set<string>();
  let epoch = 0;
  let packetId = 0;
  let messageId = 0;
  let xid = 0;

  const actions: Action[] = [];
  const at = (t: number, run: () => void): void => {
    if (t <= untilNs) actions.push({ t, order: actions.length, run });
  };

  at(0, () => {
    emit(0, 'run.start', { scenario: 'synthetic', seed, untilNs });
    for (let i = 0; i < hosts; i++) emit(0, 'node.start', { node: host(i), kind: 'host', incarnation: 1 });
    for (let i = 0; i < hosts; i++) emit(0, 'dp.vif.attach', { node: host(i), vm: vm(i), vifId: `vif-${vm(i)}`, port: VIF_PORT });
    for (let c = 0; c < controllers; c++) {
      emit(0, 'node.start', { node: ctl(c), kind: 'controller', incarnation: 1 });
      emit(0, 'raft.role', { node: ctl(c), role: 'follower', term: 0, leader: null });
    }
    for (let i = 0; i < hosts; i++) {
      const next = (i + 1) % hosts;
      const previous = (i + hosts - 1) % hosts;
      emit(0, 'dp.tunnel.add', { node: host(i), remote: host(next), port: TUNNEL_PORT });
      if (previous !== next) emit(0, 'dp.tunnel.add', { node: host(i), remote: host(previous), port: TUNNEL_PORT + 1 });
    }
  });

  at(150 * MS, () => emit(150 * MS, 'raft.role', { node: ctl(0), role: 'leader', term: 1, leader: ctl(0) }));

  const take = (t: number, i: number, c: number, cause: string): void => {
    epoch++;
    masterOf[i] = ctl(c);
    emit(t, 'cm.master', { instance: ctl(c), entity: `switch:${host(i)}`, epoch, held: true, reason: `applied ${epoch} (${cause})` });
  };
  const announceRoles = (t: number, switches: readonly number[]): void => {
    for (const i of switches) emit(t, 'switch.role', { node: host(i), controller: masterOf[i], role: 'master', generationId: epoch });
  };
  const flowmod = (t: number, i: number, command: string, flowKey: string, cookie: string): void => {
    emit(t, 'switch.flowmod', { node: host(i), from: masterOf[i], command, flowKey, cookie, generationId: epoch });
  };

  const all = Array.from({ length: hosts }, (_, i) => i);
  at(400 * MS, () => {
    for (const i of all) take(400 * MS, i, i % controllers, 'register');
    for (let c = 0; c < controllers; c++) {
      epoch++;
      emit(400 * MS, 'cm.master', { instance: ctl(c), entity: `ldps:t${c + 1}`, epoch, held: true, reason: `applied ${epoch} (register)` });
    }
  });
  at(401 * MS, () => announceRoles(401 * MS, all));
  at(500 * MS, () => {
    for (const i of all) {
      for (const [key, cookie] of baseFlows(i)) flowmod(500 * MS, i, 'add', key, cookie);
      for (let k = 1; k <= CHURN_FLOWS; k++) flowmod(500 * MS, i, 'add', churnFlow(i, k), `dp:${tenantOf(i) + 1}`);
    }
  });

  // Traffic: every VM sends to the VM of a ring neighbour; the copy arrives one hop delay later. These are
  // nearly all of the lines, so their JSON is assembled from pieces serialized once (names here are plain
  // ASCII made above, so they need no escaping); the text is what JSON.stringify would write.
  const headersJson = new Map<string, string>();
  const headersOf = (from: number, to: number): string => {
    const key = `${from}>${to}`;
    let json = headersJson.get(key);
    if (json === undefined) {
      const headers = { ethSrc: BASE_MAC + from, ethDst: BASE_MAC + to, ethType: 0x0800, ipSrc: BASE_IP + from, ipDst: BASE_IP + to, ipProto: 17, ipTtl: 64, l4Src: 40000 + (from % 1000), l4Dst: 5000, tcpFlags: 0 };
      headersJson.set(key, (json = JSON.stringify(headers)));
    }
    return json;
  };
  const hitsJson = (md: number, flows: readonly [number, string][]) =>
    JSON.stringify(flows.map(([table, flowKey]) => ({ table, flowKey, cookie: `dp:${md}` })));
  const tenants = Array.from({ length: controllers }, (_, c) => c + 1);
  const sendHits = tenants.map((md) => hitsJson(md, [[0, `0/100/inPort=${VIF_PORT}`], [10, `10/50/metadata=${md}`], [30, `30/0/metadata=${md}`]]));
  const arriveHits = tenants.map((md) => hitsJson(md, [[0, `0/50/tunKey=${md}`], [20, `20/100/metadata=${md},reg7=1`]]));
  const missHits = tenants.map((md) => hitsJson(md, [[0, `0/50/tunKey=${md}`]]));
  for (let t = S; t < untilNs; t += packetIntervalNs) {
    const sent: InFlight[] = [];
    at(t, () => {
      for (let i = 0; i < hosts; i++) {
        if (stunned.has(i)) continue;
        const src = host(vmHost[i]);
        const dstVm = rng.below(2) === 0 ? (i + 1) % hosts : (i + hosts - 1) % hosts;
        const dst = host(vmHost[dstVm]);
        if (dst === src) continue;
        const id = ++packetId;
        const md = tenantOf(i) + 1;
        const headers = headersOf(i, dstVm);
        lines.push(`{"t":${t},"type":"dp.vm.send","node":"${src}","vm":"${vm(i)}","packetId":${id},"headers":${headers},"bytes":100}`);
        lines.push(`{"t":${t},"type":"dp.pipeline","node":"${src}","packetId":${id},"inPort":${VIF_PORT},"hits":${sendHits[md - 1]},"outputs":[${TUNNEL_PORT}],"punts":0,"drop":null}`);
        lines.push(`{"t":${t},"type":"dp.tunnel.send","src":"${src}","dst":"${dst}","packetId":${id},"tunKey":${md},"tunMeta":0,"bytes":158}`);
        lines.push(
          `{"t":${t},"type":"net.send","id":${++messageId},"src":"${src}","dst":"${dst}","body":{"type":"dp.tunnel","packet":{"id":${id},"originId":${id},"headers":${headers},"payloadBytes":58},"tunKey":${md},"tunMeta":0,"sizeBytes":158}}`,
        );
        sent.push({ packetId: id, dst: dstVm, headers });
      }
    });
    at(t + HOP_DELAY_NS, () => {
      const tr = t + HOP_DELAY_NS;
      for (const p of sent) {
        const node = host(vmHost[p.dst]);
        const md = tenantOf(p.dst) + 1;
        if (rng.below(DROP_ONE_IN) === 0) {
          lines.push(`{"t":${tr},"type":"dp.pipeline","node":"${node}","packetId":${p.packetId},"inPort":${TUNNEL_PORT},"hits":${missHits[md - 1]},"outputs":[],"punts":0,"drop":"no-flow"}`);
          lines.push(`{"t":${tr},"type":"dp.drop","node":"${node}","packetId":${p.packetId},"reason":"no-flow","table":20,"port":-1}`);
          continue;
        }
        lines.push(`{"t":${tr},"type":"dp.pipeline","node":"${node}","packetId":${p.packetId},"inPort":${TUNNEL_PORT},"hits":${arriveHits[md - 1]},"outputs":[${VIF_PORT}],"punts":0,"drop":null}`);
        lines.push(`{"t":${tr},"type":"dp.vm.receive","node":"${node}","vm":"${vm(p.dst)}","packetId":${p.packetId},"originId":${p.packetId},"port":${VIF_PORT},"headers":${p.headers},"bytes":100}`);
      }
    });
  }

  // Each master keeps its switches' connections alive.
  for (let t = S; t < untilNs; t += ECHO_INTERVAL_NS) {
    at(t + 2 * MS, () => {
      for (const i of all) {
        const master = masterOf[i];
        if (master === undefined || crashed.has(master)) continue;
        emit(t + 2 * MS, 'net.send', { id: ++messageId, src: master, dst: host(i), body: { type: 'of.echo', xid: ++xid } });
      }
    });
  }

  // Flow churn: once a second a few switches change a flow of their own.
  for (let t = S + 3 * MS; t < untilNs; t += S) {
    at(t, () => {
      for (const i of all) {
        if (rng.below(20) !== 0 || crashed.has(masterOf[i])) continue;
        const k = 1 + rng.below(CHURN_FLOWS + 2);
        const command = rng.below(3) === 0 ? 'delete-strict' : rng.below(2) === 0 ? 'modify' : 'add';
        flowmod(t, i, command, churnFlow(i, k), command === 'delete-strict' ? '' : `dp:${tenantOf(i) + 1}`);
      }
    });
  }

  // A live migration of vm1 to h2, a quarter of the way in.
  const migrateAt = Math.round(untilNs / 4 / MS) * MS;
  const migration = { mig: 'h1#1', vm: vm(0) };
  at(migrateAt, () => {
    emit(migrateAt, 'mig.start', { ...migration, from: host(0), candidates: [host(1)], variant: 'prenotify', mode: 'live' });
    emit(migrateAt, 'nvt.config', { action: 'migrate', detail: `${vm(0)} from ${host(0)} (h1#1)` });
  });
  at(migrateAt + 400 * MS, () => {
    stunned.add(0);
    emit(migrateAt + 400 * MS, 'mig.stun', { ...migration, node: host(0) });
  });
  at(migrateAt + 401 * MS, () => emit(migrateAt + 401 * MS, 'dp.vif.attach', { node: host(1), vm: vm(0), vifId: `vif-${vm(0)}`, port: VIF_PORT + 1 }));
  at(migrateAt + 405 * MS, () => {
    stunned.delete(0);
    vmHost[0] = 1;
    emit(migrateAt + 405 * MS, 'mig.resume', { ...migration, node: host(1) });
  });
  at(migrateAt + 406 * MS, () => {
    emit(migrateAt + 406 * MS, 'dp.vif.detach', { node: host(0), vm: vm(0), vifId: `vif-${vm(0)}`, port: VIF_PORT });
    emit(migrateAt + 406 * MS, 'mig.done', { ...migration, from: host(0), to: host(1), downtimeNs: 5 * MS });
  });

  // ctl-1 crashes half-way; the others elect a new leader, then expire its session and take its switches.
  const crashAt = untilNs / 2;
  const orphans = all.filter((i) => i % controllers === 0);
  at(crashAt, () => {
    crashed.add(ctl(0));
    emit(crashAt, 'fault.crash', { node: ctl(0), incarnation: 1 });
  });
  if (controllers > 1) {
    at(crashAt + 160 * MS, () => emit(crashAt + 160 * MS, 'raft.role', { node: ctl(1), role: 'leader', term: 2, leader: ctl(1) }));
    at(crashAt + S, () => emit(crashAt + S, 'cm.session.expired', { leader: ctl(1), member: ctl(0), silentNs: S }));
    const electedAt = crashAt + S + 20 * MS;
    at(electedAt, () => {
      orphans.forEach((i, n) => take(electedAt, i, 1 + (n % (controllers - 1)), 'member-down'));
      epoch++;
      emit(electedAt, 'cm.master', { instance: ctl(1), entity: 'ldps:t1', epoch, held: true, reason: `applied ${epoch} (member-down)` });
    });
    at(electedAt + MS, () => announceRoles(electedAt + MS, orphans));
    at(electedAt + 2 * MS, () => {
      for (const i of orphans) for (const [key, cookie] of baseFlows(i)) flowmod(electedAt + 2 * MS, i, 'modify', key, cookie);
    });
  }
  const restartAt = crashAt + Math.round(untilNs / 5 / MS) * MS;
  at(restartAt, () => {
    crashed.delete(ctl(0));
    emit(restartAt, 'fault.restart', { node: ctl(0), incarnation: 2 });
    emit(restartAt, 'node.start', { node: ctl(0), kind: 'controller', incarnation: 2 });
    emit(restartAt, 'raft.role', { node: ctl(0), role: 'follower', term: 2, leader: null });
    // Alone, the restarted instance is the whole cluster and takes its switches back.
    if (controllers === 1) {
      for (const i of all) take(restartAt, i, 0, 'register');
      announceRoles(restartAt, all);
    }
  });

  // The last host is cut off from the controllers for 300 ms, three quarters of the way in.
  const cutAt = Math.round((untilNs * 3) / 4 / MS) * MS;
  const cut = { id: 'edge-cut', mode: 'groups', groups: [[host(hosts - 1)], Array.from({ length: controllers }, (_, c) => ctl(c))] };
  at(cutAt, () => emit(cutAt, 'fault.partition', cut));
  at(cutAt + 300 * MS, () => emit(cutAt + 300 * MS, 'fault.heal', { id: cut.id }));

  at(untilNs, () => emit(untilNs, 'run.end', { events: lineCount + lines.length, ok: true }));

  actions.sort((a, b) => a.t - b.t || a.order - b.order);
  for (const action of actions) {
    action.run();
    if (lines.length === 0) continue;
    lineCount += lines.length;
    chunks.push(lines.join('\n'));
    lines.length = 0;
  }
  return chunks.join('\n') + '\n';
}
