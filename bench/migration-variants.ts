// The four middlebox-state handoff variants of live VM migration (seed 001 §2.A–D), and the detected
// variant under failover, over a seed sweep: each scenario runs once per seed 1..N (trace off, the
// scenario's own faults), and its migrations and connections metrics are summed up per variant, per
// state-gap policy for the detected variants, and per latency of the source → destination link.
// Virtual time, so every figure is the same on any machine; wall time goes to stderr only. Owns the sweep
// and the table; the worlds, migrations and checks are scenarios/models/migration-lab.ts's and
// scenarios/migration-during-failover.ts's.
//
//   npx tsx bench/migration-variants.ts [--seeds 20] [--gap buffer] [--source-latency 1]
//
// --gap takes a comma list of drop, new, buffer: the detected variants (and during-failover) run once per
// policy, through a wrapper that calls their setup with that policy (the scenario files use buffer). The
// pre-notified variants have no state gap and run as they are.
// --source-latency takes a comma list of one-way latencies in ms for the link from the source host h1 to
// the destination h2 (1 is the fabric's default): the detected variants' state is fetched after the VM
// moved, so a slower source → destination path lets the VM resume before its state arrives, and its
// packets meet the state gap.
//
// Columns: runs; runs in which every invariant held; migrations done of those started; downtime (from
// the stun at the source to the resume at the destination, measured) median and p99 in ms over every
// completed migration; median state bytes per completed migration; gap packets (packets of a migrating
// VM that met the destination element's state gap) in total and the median per run; answered/sent over
// the migrating clients' connections (not a1-late, which the firewall must refuse); connections, of all
// clients, that reached more than one (server, source) pair. Quantiles are nearest-rank.

import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import migrationDetected from '../scenarios/migration-detected.ts';
import migrationDetectedSsm from '../scenarios/migration-detected-ssm.ts';
import migrationPrenotify from '../scenarios/migration-prenotify.ts';
import migrationPrenotifySsm from '../scenarios/migration-prenotify-ssm.ts';
import migrationDuringFailover, { setupMigrationDuringFailover } from '../scenarios/migration-during-failover.ts';
import { MIGRATION_DESTINATION, MIGRATIONS, setupHandoffVariant } from '../scenarios/models/migration-lab.ts';
import { DEFAULT_LINK } from '../sim/net/link.ts';
import type { StateGapPolicy } from '../sim/middlebox/vm-state.ts';
import { NS_PER_MS } from '../sim/kernel/time.ts';
import { defineScenario, runScenario, type Scenario, type World } from '../sim/testbed/index.ts';
import { benchArgs } from './bench-args.ts';

const GAP_POLICIES: readonly StateGapPolicy[] = ['drop', 'new', 'buffer'];
/** The connection the firewall refuses by design; counting it would hide the migrating ones' losses. */
const REFUSED_CONNECTION = 'a1-late';

const args = benchArgs('migration-variants', {
  seeds: { type: 'string', default: '20' },
  gap: { type: 'string', default: 'buffer' },
  'source-latency': { type: 'string', default: '1' },
});
const seeds = args.positiveInteger('seeds');
const gapPolicies = args.gap.split(',').map((g) => {
  if (!GAP_POLICIES.includes(g as StateGapPolicy)) args.fail(`--gap takes a comma list of ${GAP_POLICIES.join(', ')}, got '${g}'`);
  return g as StateGapPolicy;
});
if (new Set(gapPolicies).size !== gapPolicies.length) args.fail(`--gap names a policy twice: '${args.gap}'`);
const latenciesMs = args['source-latency'].split(',').map((l) => {
  const ms = Number(l);
  if (!/^\d+(\.\d+)?$/.test(l) || !(ms > 0)) args.fail(`--source-latency takes a comma list of latencies in ms (> 0), got '${l}'`);
  return ms;
});
if (new Set(latenciesMs).size !== latenciesMs.length) args.fail(`--source-latency names a latency twice: '${args['source-latency']}'`);
/** The source host of every migration in the lab. */
const SOURCE = 'h1';

interface Row {
  readonly variant: string;
  readonly gap: StateGapPolicy | null;
  readonly latencyMs: number;
  readonly scenario: Scenario;
}

/**
 * `file` with `setup` in place of its own and the source → destination link at `latencyMs` (one way);
 * name, duration and liveness stay the file's.
 */
function variantOf(file: Scenario, latencyMs: number, setup: (world: World) => void): Scenario {
  return defineScenario({
    ...file,
    setup: (world) => {
      setup(world);
      world.fabric.setLink(SOURCE, MIGRATION_DESTINATION, { ...DEFAULT_LINK, latency: { kind: 'constant', ns: Math.round(latencyMs * NS_PER_MS) } }, false);
    },
  });
}

const rows: Row[] = latenciesMs.flatMap((latencyMs) => [
  { variant: 'prenotify', gap: null, latencyMs, scenario: variantOf(migrationPrenotify, latencyMs, migrationPrenotify.setup) },
  { variant: 'prenotify-ssm', gap: null, latencyMs, scenario: variantOf(migrationPrenotifySsm, latencyMs, migrationPrenotifySsm.setup) },
  ...gapPolicies.map((gap) => ({ variant: 'detected', gap, latencyMs, scenario: variantOf(migrationDetected, latencyMs, (w) => void setupHandoffVariant(w, { handoff: 'detected', ssm: false, gapPolicy: gap })) })),
  ...gapPolicies.map((gap) => ({ variant: 'detected-ssm', gap, latencyMs, scenario: variantOf(migrationDetectedSsm, latencyMs, (w) => void setupHandoffVariant(w, { handoff: 'detected', ssm: true, gapPolicy: gap })) })),
  ...gapPolicies.map((gap) => ({ variant: 'during-failover', gap, latencyMs, scenario: variantOf(migrationDuringFailover, latencyMs, (w) => void setupMigrationDuringFailover(w, gap)) })),
]);

interface MigrationMetric {
  vm: string;
  phase: string;
  rounds: number;
  downtimeNs: number | null;
  stateBytes: number;
  gapPackets: number | null;
}
type ConnectionsMetric = Record<string, { sent: number; reached: number; answered: number; seenAt: string }>;

const quantile = (sorted: number[], q: number): number | undefined => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const ascending = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const fixed = (n: number | undefined, digits: number): string => (n === undefined ? '-' : n.toFixed(digits));
const integer = (n: number | undefined): string => (n === undefined ? '-' : String(n));

/** Connection ids begin with their client's name (migration-lab.ts): "a1-web", "c1-vip-40007". */
const clientOf = (connectionId: string): string => connectionId.slice(0, connectionId.indexOf('-'));
const migratingClients = new Set(MIGRATIONS.map((m) => m.vm));

interface Summary {
  readonly cells: string[];
  /** Invariant id → the seeds whose run it failed in. */
  readonly failures: Map<string, number[]>;
}

function sweep(row: Row): Summary {
  let okRuns = 0;
  let started = 0;
  let done = 0;
  const downtimesMs: number[] = [];
  const stateBytes: number[] = [];
  const gapPerRun: number[] = [];
  let gapReported = false;
  let sent = 0;
  let answered = 0;
  let changed = 0;
  const failures = new Map<string, number[]>();
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runScenario(row.scenario, { seed, trace: 'off' });
    if (r.ok) okRuns++;
    for (const i of r.invariants.filter((i) => !i.ok)) failures.set(i.id, [...(failures.get(i.id) ?? []), seed]);
    const migrations = r.metrics.migrations as unknown as MigrationMetric[];
    let gap = 0;
    for (const m of migrations) {
      started++;
      if (m.gapPackets !== null) {
        gapReported = true;
        gap += m.gapPackets;
      }
      if (m.phase !== 'done') continue;
      done++;
      if (m.downtimeNs !== null) downtimesMs.push(m.downtimeNs / NS_PER_MS);
      stateBytes.push(m.stateBytes);
    }
    gapPerRun.push(gap);
    const connections = r.metrics.connections as unknown as ConnectionsMetric;
    for (const [id, c] of Object.entries(connections)) {
      if (c.seenAt.split(' ').filter((s) => s !== '').length > 1) changed++;
      if (id === REFUSED_CONNECTION || !migratingClients.has(clientOf(id))) continue;
      sent += c.sent;
      answered += c.answered;
    }
  }
  const downtimes = ascending(downtimesMs);
  const gapTotal = gapPerRun.reduce((a, b) => a + b, 0);
  return {
    cells: [
      row.variant,
      row.gap ?? '-',
      String(row.latencyMs),
      String(seeds),
      String(okRuns),
      `${done}/${started}`,
      fixed(quantile(downtimes, 0.5), 2),
      fixed(quantile(downtimes, 0.99), 2),
      integer(quantile(ascending(stateBytes), 0.5)),
      gapReported ? String(gapTotal) : '-',
      gapReported ? integer(quantile(ascending(gapPerRun), 0.5)) : '-',
      sent === 0 ? '-' : (answered / sent).toFixed(4),
      String(changed),
    ],
    failures,
  };
}

const header = ['variant', 'gap', 'source_latency_ms', 'runs', 'ok_runs', 'migrations_done', 'downtime_median_ms', 'downtime_p99_ms', 'state_bytes_median', 'gap_packets_total', 'gap_packets_median_per_run', 'answered_per_sent_migrating', 'translations_changed'];
const script = relative(process.cwd(), fileURLToPath(import.meta.url));
console.log(`# tsx ${[script, ...process.argv.slice(2)].join(' ')}`);
console.log(`# seeds 1..${seeds}, trace off, each scenario's own faults; gap policies for the detected variants: ${gapPolicies.join(', ')}; h1 → h2 latency (ms): ${latenciesMs.join(', ')}`);

const table: string[][] = [header];
const footnotes: string[] = [];
for (const row of rows) {
  const began = performance.now();
  const { cells, failures } = sweep(row);
  const label = `${row.variant}${row.gap === null ? '' : `/${row.gap}`}@${row.latencyMs}ms`;
  process.stderr.write(`${label}: ${seeds} runs in ${((performance.now() - began) / 1000).toFixed(1)} s wall\n`);
  table.push(cells);
  for (const [id, failed] of failures) footnotes.push(`# ${label}: ${id} failed in ${failed.length} runs (seeds ${failed.join(', ')})`);
}
const widths = header.map((_, c) => Math.max(...table.map((cells) => cells[c].length)));
for (const cells of table) console.log(cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
for (const line of footnotes) console.log(line);
