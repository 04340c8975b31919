// What each timeline-worthy record says, as a timeline entry: its kind, one line of plain text and the
// nodes it concerns. Owns the wording and the classification (faults, elections, epochs, migrations,
// violations, configuration changes); which records reach the timeline, and the state they change, are
// the model builder's business.

import type { RecordOf } from './record-schema.ts';
import { formatDuration, oneLine } from './text-format.ts';
import type { TimelineEntry, TimelineKind } from './types.ts';

function entry(kind: TimelineKind, t: number, line: number, label: string, nodes: readonly string[]): TimelineEntry {
  return { t, kind, label: oneLine(label), nodes, line };
}

export function crashEntry(r: RecordOf<'fault.crash'>, line: number): TimelineEntry {
  return entry('fault', r.t, line, `${r.node} crashes`, [r.node]);
}

export function restartEntry(r: RecordOf<'fault.restart'>, line: number): TimelineEntry {
  return entry('fault', r.t, line, `${r.node} restarts (incarnation ${r.incarnation})`, [r.node]);
}

export function partitionEntry(r: RecordOf<'fault.partition'>, line: number): TimelineEntry {
  const label =
    r.mode === 'one-way'
      ? `one-way cut ${r.id}: ${r.groups.map((g) => g.join(', ')).join(' → ')}`
      : `partition ${r.id}: ${r.groups.map((g) => g.join(', ')).join(' | ')}`;
  return entry('fault', r.t, line, label, r.groups.flat());
}

/** `nodes`: those the healed partition cut off (none when it was not in force). */
export function healEntry(r: RecordOf<'fault.heal'>, line: number, nodes: readonly string[]): TimelineEntry {
  return entry('fault', r.t, line, `partition ${r.id} healed`, nodes);
}

export function degradeEntry(r: RecordOf<'fault.degrade'>, line: number): TimelineEntry {
  const settings = Object.entries(r.link)
    .filter(([, value]) => typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');
  const direction = r.symmetric ? '↔' : '→';
  return entry('fault', r.t, line, `links degraded (${r.id}): ${r.from.join(', ')} ${direction} ${r.to.join(', ')}${settings ? `: ${settings}` : ''}`, [...r.from, ...r.to]);
}

/** `nodes`: those the degradation concerned. */
export function restoreEntry(r: RecordOf<'fault.restore'>, line: number, nodes: readonly string[]): TimelineEntry {
  return entry('fault', r.t, line, `links restored (${r.id})`, nodes);
}

export function skipEntry(r: RecordOf<'fault.skip'>, line: number): TimelineEntry {
  return entry('fault', r.t, line, `${r.verb} of ${r.node} skipped: it was already ${r.verb === 'crash' ? 'down' : 'up'}`, [r.node]);
}

export function raftLeaderEntry(r: RecordOf<'raft.role'>, line: number): TimelineEntry {
  return entry('election', r.t, line, `${r.node} becomes the coordination leader (term ${r.term})`, [r.node]);
}

export function sessionExpiredEntry(r: RecordOf<'cm.session.expired'>, line: number): TimelineEntry {
  return entry('election', r.t, line, `${r.leader} declares ${r.member} down (silent ${formatDuration(r.silentNs)})`, [r.leader, r.member]);
}

/** `what`: the entity in words ("switch h1", "LDPS A"); `switchId`: the switch it is, if one. */
export function masterEntry(r: RecordOf<'cm.master'>, line: number, what: string, switchId: string | null): TimelineEntry {
  const label = r.held ? `${r.instance} masters ${what} (epoch ${r.epoch})` : `${r.instance} releases ${what} (epoch ${r.epoch}): ${r.reason}`;
  return entry('epoch', r.t, line, label, switchId === null ? [r.instance] : [r.instance, switchId]);
}

export function switchRoleEntry(r: RecordOf<'switch.role'>, line: number): TimelineEntry {
  const label = r.role === 'master' ? `${r.controller} masters switch ${r.node} (generation ${r.generationId})` : `${r.controller} is ${r.role} of switch ${r.node}`;
  return entry('epoch', r.t, line, label, [r.controller, r.node]);
}

export function migrationStartEntry(r: RecordOf<'mig.start'>, line: number): TimelineEntry {
  const toward = r.candidates.length > 0 ? ` toward ${r.candidates.join(', ')}` : '';
  return entry('migration', r.t, line, `${r.vm} starts migrating from ${r.from}${toward} (${r.mode}, ${r.variant})`, [r.vm, r.from, ...r.candidates]);
}

export function stunEntry(r: RecordOf<'mig.stun'>, line: number): TimelineEntry {
  return entry('migration', r.t, line, `${r.vm} stunned on ${r.node}`, [r.vm, r.node]);
}

export function resumeEntry(r: RecordOf<'mig.resume'>, line: number): TimelineEntry {
  return entry('migration', r.t, line, `${r.vm} resumes on ${r.node}`, [r.vm, r.node]);
}

export function migrationDoneEntry(r: RecordOf<'mig.done'>, line: number): TimelineEntry {
  return entry('migration', r.t, line, `${r.vm} moved ${r.from} → ${r.to} (downtime ${formatDuration(r.downtimeNs)})`, [r.vm, r.from, r.to]);
}

export function migrationRefusedEntry(r: RecordOf<'mig.refused'>, line: number): TimelineEntry {
  return entry('migration', r.t, line, `migration ${r.mig} of ${r.vm} refused: ${r.reason}`, [r.vm]);
}

export function violationEntry(r: RecordOf<'check.violation'>, line: number): TimelineEntry {
  return entry('violation', r.t, line, `violation ${r.id}: ${r.detail}`, []);
}

export function configEntry(r: RecordOf<'nvt.config'>, line: number): TimelineEntry {
  return entry('config', r.t, line, `${r.action}: ${r.detail}`, []);
}

export function joinEntry(r: RecordOf<'nvt.join'>, line: number): TimelineEntry {
  return entry('config', r.t, line, `${r.instance} joins the cluster`, [r.instance]);
}
