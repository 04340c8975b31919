// What each record means for the model: one pass over the checked records of a trace feeds the node list,
// tunnels, liveness, partitions, mastership, VM placement, the timeline, packets and charts, then
// `finish` assembles the TraceModel. Owns the meaning of records (which state they change and when);
// the histories, trackers and wording live in their own modules. Reads records only through their
// schemas, and keeps every trace-given name in Maps and Sets, never as object keys.

import { failoversOf, type ControllerCrash } from './failovers.ts';
import { FirstSeen } from './first-seen.ts';
import { FlowCounts } from './flow-counts.ts';
import { KeyedHistory } from './keyed-history.ts';
import { mergeByLine, MastershipTracker, type MasterChange } from './mastership.ts';
import { MessageRate } from './message-rate.ts';
import { hasSwitch, roleOfKind } from './node-roles.ts';
import { PacketIndex } from './packet-index.ts';
import { checkRecord, isKnownType, tunnelledPacket, type KnownType, type RecordOf } from './record-schema.ts';
import * as entries from './timeline-labels.ts';
import type { RawRecord, TraceText } from './trace-lines.ts';
import type { NodeRole, PartitionState, TimelineEntry, TopologyNode, TraceModel, TunnelEdge, Violation } from './types.ts';
import { ViewIndex } from './view-index.ts';
import { VmPlacement } from './vm-placement.ts';

const SWITCH_ENTITY = 'switch:';
const LDPS_ENTITY = 'ldps:';

type Handlers = { readonly [K in KnownType]: (record: RecordOf<K>, line: number, start: number) => void };

export class ModelBuilder {
  private scenario: string | null = null;
  private seed: number | null = null;
  private readonly nodes: TopologyNode[] = [];
  private readonly roleOf = new Map<string, NodeRole>();
  private readonly controllers = new FirstSeen();
  private readonly switches = new FirstSeen();
  private readonly vms = new FirstSeen();
  private readonly tunnels: TunnelEdge[] = [];
  private readonly tunnelEnds = new Map<string, Set<string>>();
  private readonly crashed = new KeyedHistory<true>();
  private readonly partitions = new KeyedHistory<PartitionState>();
  /** Degradation id → the nodes it concerns, for the entry that restores it. */
  private readonly degradations = new Map<string, readonly string[]>();
  /** From coordination-manager records ('switch:…', 'ldps:…' entities). */
  private readonly cmMastership = new MastershipTracker();
  /** From switches' role records, which count only for switches no coordination manager assigns. */
  private readonly roleMastership = new MastershipTracker();
  private readonly cmSwitches = new Set<string>();
  private readonly ldpses = new Set<string>();
  private readonly placement = new VmPlacement();
  private readonly violations: Violation[] = [];
  private readonly timeline: TimelineEntry[] = [];
  /** Switch role entries, kept apart until it is known which switches have coordination-manager records. */
  private readonly roleEntries: { readonly switchId: string; readonly entry: TimelineEntry }[] = [];
  private readonly controllerCrashes: ControllerCrash[] = [];
  private readonly flows = new FlowCounts();
  private readonly messages = new MessageRate();
  private readonly packets = new PacketIndex();

  /** One line's record (already checked for `t` and `type`): checks the fields its type needs and applies it. */
  accept(raw: RawRecord, line: number, start: number): void {
    const type = raw.type;
    if (!isKnownType(type)) return;
    const handler = this.handlers[type] as (record: RecordOf<KnownType>, line: number, start: number) => void;
    handler(checkRecord(type, raw, line + 1), line, start);
  }

  finish(text: string, read: TraceText): TraceModel {
    const switchChanges: MasterChange[] = [];
    const ldpsChanges: MasterChange[] = [];
    for (const change of this.cmMastership.changes) {
      if (change.entity.startsWith(SWITCH_ENTITY)) switchChanges.push({ ...change, entity: change.entity.slice(SWITCH_ENTITY.length) });
      else if (change.entity.startsWith(LDPS_ENTITY)) ldpsChanges.push({ ...change, entity: change.entity.slice(LDPS_ENTITY.length) });
    }
    const roleChanges = this.roleMastership.changes.filter((c) => !this.cmSwitches.has(c.entity));
    const allSwitchChanges = mergeByLine(switchChanges, roleChanges);
    const roleEntries = this.roleEntries.filter((e) => !this.cmSwitches.has(e.switchId)).map((e) => e.entry);
    const view = new ViewIndex({
      endNs: read.endNs,
      controllers: this.controllers,
      switches: this.switches,
      vms: this.vms,
      masterOf: historyOf(allSwitchChanges),
      ldpsMasterOf: historyOf(ldpsChanges),
      crashed: this.crashed,
      partitions: this.partitions,
      vmHost: this.placement.history,
      violations: this.violations,
    });
    const packets = this.packets;
    return {
      meta: { scenario: this.scenario, seed: this.seed, endNs: read.endNs, lines: read.lines, hash: read.hash },
      nodes: this.nodes,
      tunnels: this.tunnels,
      ldpses: [...this.ldpses].sort(),
      timeline: mergeByLine(this.timeline, roleEntries),
      viewAt: (t) => view.viewAt(t),
      packets: packets.packets,
      packetPath: (packetId) => packets.path(text, packetId),
      charts: {
        failovers: failoversOf(allSwitchChanges, this.controllerCrashes),
        messagesPerSecond: this.messages.points(read.endNs),
        flowsPerSwitch: this.flows.series(),
      },
    };
  }

  private isDown(node: string): boolean {
    return this.crashed.current(node) !== undefined;
  }

  private addTunnel(a: string, b: string): void {
    if (a === b) return;
    const [low, high] = a < b ? [a, b] : [b, a];
    let ends = this.tunnelEnds.get(low);
    if (ends === undefined) this.tunnelEnds.set(low, (ends = new Set()));
    if (ends.has(high)) return;
    ends.add(high);
    this.tunnels.push({ a: low, b: high });
  }

  private readonly handlers: Handlers = {
    'run.start': (r) => {
      if (this.scenario !== null) return;
      this.scenario = r.scenario;
      this.seed = r.seed;
    },
    'node.start': (r) => {
      if (!this.roleOf.has(r.node)) {
        const role = roleOfKind(r.kind);
        this.roleOf.set(r.node, role);
        this.nodes.push({ id: r.node, role, kind: r.kind });
        if (role === 'controller') this.controllers.add(r.t, r.node);
        else if (hasSwitch(role)) this.switches.add(r.t, r.node);
      }
      // A start is a new incarnation: whatever crashed is up again.
      this.crashed.set(r.t, r.node, undefined);
    },
    'fault.crash': (r, line) => {
      this.crashed.set(r.t, r.node, true);
      this.cmMastership.releaseAll(r.t, line, r.node);
      this.roleMastership.releaseAll(r.t, line, r.node);
      this.flows.crash(r.t, r.node);
      if (this.roleOf.get(r.node) === 'controller') this.controllerCrashes.push({ node: r.node, t: r.t, line });
      this.timeline.push(entries.crashEntry(r, line));
    },
    'fault.restart': (r, line) => {
      this.crashed.set(r.t, r.node, undefined);
      this.timeline.push(entries.restartEntry(r, line));
    },
    'fault.partition': (r, line) => {
      this.partitions.set(r.t, r.id, { id: r.id, mode: r.mode, groups: r.groups });
      this.timeline.push(entries.partitionEntry(r, line));
    },
    'fault.heal': (r, line) => {
      const healed = this.partitions.current(r.id);
      this.partitions.set(r.t, r.id, undefined);
      this.timeline.push(entries.healEntry(r, line, healed === undefined ? [] : healed.groups.flat()));
    },
    'fault.degrade': (r, line) => {
      this.degradations.set(r.id, [...r.from, ...r.to]);
      this.timeline.push(entries.degradeEntry(r, line));
    },
    'fault.restore': (r, line) => {
      const nodes = this.degradations.get(r.id) ?? [];
      this.degradations.delete(r.id);
      this.timeline.push(entries.restoreEntry(r, line, nodes));
    },
    'fault.skip': (r, line) => {
      this.timeline.push(entries.skipEntry(r, line));
    },
    'dp.tunnel.add': (r) => this.addTunnel(r.node, r.remote),
    'dp.vif.attach': (r) => {
      this.vms.add(r.t, r.vm);
      this.placement.attach(r.t, r.vm, r.node);
    },
    'dp.vif.detach': (r) => this.placement.detach(r.t, r.vm, r.node),
    'cm.master': (r, line) => {
      let what = `entity ${r.entity}`;
      let switchId: string | null = null;
      if (r.entity.startsWith(SWITCH_ENTITY)) {
        switchId = r.entity.slice(SWITCH_ENTITY.length);
        this.cmSwitches.add(switchId);
        what = `switch ${switchId}`;
      } else if (r.entity.startsWith(LDPS_ENTITY)) {
        const ldps = r.entity.slice(LDPS_ENTITY.length);
        this.ldpses.add(ldps);
        what = `LDPS ${ldps}`;
      }
      // A crashed node holds nothing, whatever a record says.
      if (!r.held) this.cmMastership.release(r.t, line, r.entity, r.instance);
      else if (!this.isDown(r.instance)) this.cmMastership.take(r.t, line, r.entity, r.instance);
      this.timeline.push(entries.masterEntry(r, line, what, switchId));
    },
    'switch.role': (r, line) => {
      if (r.role !== 'master') this.roleMastership.release(r.t, line, r.node, r.controller);
      else if (!this.isDown(r.controller)) this.roleMastership.take(r.t, line, r.node, r.controller);
      this.roleEntries.push({ switchId: r.node, entry: entries.switchRoleEntry(r, line) });
    },
    'raft.role': (r, line) => {
      if (r.role === 'leader') this.timeline.push(entries.raftLeaderEntry(r, line));
    },
    'cm.session.expired': (r, line) => {
      this.timeline.push(entries.sessionExpiredEntry(r, line));
    },
    'mig.start': (r, line) => {
      this.timeline.push(entries.migrationStartEntry(r, line));
    },
    'mig.stun': (r, line) => {
      this.timeline.push(entries.stunEntry(r, line));
    },
    'mig.resume': (r, line) => {
      this.placement.resume(r.t, r.vm, r.node);
      this.timeline.push(entries.resumeEntry(r, line));
    },
    'mig.done': (r, line) => {
      this.timeline.push(entries.migrationDoneEntry(r, line));
    },
    'mig.refused': (r, line) => {
      this.timeline.push(entries.migrationRefusedEntry(r, line));
    },
    'check.violation': (r, line) => {
      this.violations.push({ t: r.t, id: r.id, detail: r.detail });
      this.timeline.push(entries.violationEntry(r, line));
    },
    'nvt.config': (r, line) => {
      this.timeline.push(entries.configEntry(r, line));
    },
    'nvt.join': (r, line) => {
      this.timeline.push(entries.joinEntry(r, line));
    },
    'net.send': (r, line) => {
      this.messages.send(r.t);
      const packet = tunnelledPacket(r.body, line + 1);
      if (packet !== null) this.packets.copy(packet.originId, packet.id);
    },
    'switch.flowmod': (r) => this.flows.flowmod(r.t, r.node, r.command, r.flowKey, r.cookie),
    'dp.vm.send': (r, _line, start) => {
      this.packets.sent(r, r.vm);
      this.packets.hop(r.packetId, start);
    },
    'dp.ext.send': (r, _line, start) => {
      this.packets.sent(r, r.endpoint);
      this.packets.hop(r.packetId, start);
    },
    'dp.vm.receive': (r, _line, start) => {
      this.packets.copy(r.originId, r.packetId);
      this.packets.hop(r.packetId, start);
    },
    'dp.ext.receive': (r, _line, start) => {
      this.packets.copy(r.originId, r.packetId);
      this.packets.hop(r.packetId, start);
    },
    'dp.pipeline': (r, _line, start) => this.packets.hop(r.packetId, start),
    'dp.middlebox': (r, _line, start) => this.packets.hop(r.packetId, start),
    'dp.tunnel.send': (r, _line, start) => this.packets.hop(r.packetId, start),
    'dp.phys.send': (r, _line, start) => this.packets.hop(r.packetId, start),
    'dp.drop': (r, _line, start) => this.packets.hop(r.packetId, start),
    'dp.vm.stunned': (r, _line, start) => this.packets.hop(r.packetId, start),
  };
}

function historyOf(changes: readonly MasterChange[]): KeyedHistory<string> {
  const history = new KeyedHistory<string>();
  for (const change of changes) history.set(change.t, change.entity, change.master);
  return history;
}
