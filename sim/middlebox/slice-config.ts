// Turns the host database's full set of record texts into per-slice configurations: the slice record,
// its compiled classifier (lb rules given as one record per backend merged into one pool) and its local
// VMs. A record that cannot be used is reported to `onBad` and skipped: the records come from the network,
// so a bad one must not stop the rest. Owns this compilation; not bindings or state (element.ts).

import { decodeMiddleboxRecord, encodeMiddleboxRecord, type Backend, type MiddleboxRecord } from './records.ts';
import { compileClassifier, KIND_ACTIONS, type CompiledRule } from './rule-match.ts';

type SliceRecord = Extract<MiddleboxRecord, { r: 'slice' }>;
export type RuleRecord = Extract<MiddleboxRecord, { r: 'rule' }>;

export interface SliceConfig {
  readonly slice: SliceRecord;
  readonly classifier: readonly CompiledRule[];
  /** The rules as records (one per rule, lb pools merged), by rule key: what the SSM's config() returns. */
  readonly rules: readonly RuleRecord[];
  readonly vmKeys: ReadonlySet<number>;
}

export interface CompiledConfig {
  readonly slices: ReadonlyMap<number, SliceConfig>;
  /** vifId → vmKey of every 'vm' record. */
  readonly vifs: ReadonlyMap<string, number>;
}

const MAX_PORT = 65_535;
const MAX_IP = 0xffff_ffff;

export function compileRecords(texts: readonly string[], onBad: (error: string) => void): CompiledConfig {
  const sliceRecs = new Map<number, SliceRecord>();
  const ruleRecs: RuleRecord[] = [];
  const vmRecs: Extract<MiddleboxRecord, { r: 'vm' }>[] = [];
  for (const text of texts) {
    let rec: MiddleboxRecord;
    try {
      rec = decodeMiddleboxRecord(text);
    } catch (e) {
      onBad((e as Error).message);
      continue;
    }
    if (rec.r === 'slice') {
      const before = sliceRecs.get(rec.tag);
      if (before !== undefined && encodeMiddleboxRecord(before) !== encodeMiddleboxRecord(rec)) {
        onBad(`middlebox record: slice ${rec.tag} is defined twice, differently; the first definition is kept`);
        continue;
      }
      sliceRecs.set(rec.tag, rec);
    } else if (rec.r === 'rule') ruleRecs.push(rec);
    else vmRecs.push(rec);
  }

  const rulesBySlice = new Map<number, Map<number, RuleRecord>>();
  for (const rec of ruleRecs) {
    const slice = sliceRecs.get(rec.tag);
    const problem = slice === undefined ? `rule ${rec.rule} names slice ${rec.tag}, which has no slice record` : ruleProblem(rec, slice);
    if (problem !== null) {
      onBad(`middlebox record: ${problem}`);
      continue;
    }
    let rules = rulesBySlice.get(rec.tag);
    if (rules === undefined) rulesBySlice.set(rec.tag, (rules = new Map()));
    const before = rules.get(rec.rule);
    // An lb rule arrives as one record per backend: the pool is their union; the rest is the first's.
    rules.set(rec.rule, before === undefined ? rec : { ...before, backends: [...before.backends, ...rec.backends] });
  }

  const vmsBySlice = new Map<number, Set<number>>();
  const vifs = new Map<string, number>();
  for (const rec of vmRecs) {
    if (!sliceRecs.has(rec.tag)) {
      onBad(`middlebox record: vm ${rec.vmKey} names slice ${rec.tag}, which has no slice record`);
      continue;
    }
    let vms = vmsBySlice.get(rec.tag);
    if (vms === undefined) vmsBySlice.set(rec.tag, (vms = new Set()));
    vms.add(rec.vmKey);
    vifs.set(rec.vifId, rec.vmKey);
  }

  const slices = new Map<number, SliceConfig>();
  for (const [tag, slice] of [...sliceRecs].sort(([a], [b]) => a - b)) {
    const rules = [...(rulesBySlice.get(tag)?.values() ?? [])]
      .map((r) => ({ ...r, backends: sortedPool(r.backends) }))
      .sort((a, b) => a.rule - b.rule);
    const classifier = compileClassifier(rules.map((r) => ({ rule: r.rule, name: r.name, priority: r.priority, action: r.action, match: r.match, toIp: r.toIp, toPortMin: r.toPortMin, toPortMax: r.toPortMax, backends: r.backends })));
    slices.set(tag, { slice, classifier, rules, vmKeys: vmsBySlice.get(tag) ?? new Set() });
  }
  return { slices, vifs };
}

function ruleProblem(rec: RuleRecord, slice: SliceRecord): string | null {
  if (!KIND_ACTIONS[slice.kind].includes(rec.action)) return `rule ${rec.rule}: action '${rec.action}' does not apply to ${slice.kind} slice ${rec.tag}`;
  if (rec.toIp > MAX_IP) return `rule ${rec.rule}: toIp ${rec.toIp} is not an IPv4 address`;
  const keepsPort = rec.toPortMin === 0 && rec.toPortMax === 0;
  if (!keepsPort && !(rec.toPortMin >= 1 && rec.toPortMin <= rec.toPortMax && rec.toPortMax <= MAX_PORT)) {
    return `rule ${rec.rule}: port range ${rec.toPortMin}..${rec.toPortMax} is neither 0..0 nor within 1..${MAX_PORT}`;
  }
  for (const b of rec.backends) {
    if (b.ip > MAX_IP || b.port > MAX_PORT) return `rule ${rec.rule}: backend ${b.ip}:${b.port} is not an IPv4 address and port`;
  }
  return null;
}

function sortedPool(backends: readonly Backend[]): Backend[] {
  const byKey = new Map<string, Backend>();
  for (const b of backends) byKey.set(`${b.ip}:${b.port}`, { ip: b.ip, port: b.port });
  return [...byKey.values()].sort((a, b) => a.ip - b.ip || a.port - b.port);
}
