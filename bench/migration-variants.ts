// The four middlebox-state handoff variants of live VM migration (seed 001 §2.A–D) over a seed sweep: each
// variant's scenario runs once per seed 1..N (trace off, the scenario's own faults), and its migrations and
// connections metrics are summed up per variant, and per state-gap policy for the detected variants.
// Virtual time, so every figure is the same on any machine; wall time goes to stderr only. Owns the sweep
// and the table; the worlds, migrations and checks are scenarios/models/migration-lab.ts's.
//
//   npx tsx bench/migration-variants.ts [--seeds 20] [--gap buffer]
//
// --gap takes a comma list of drop, new, buffer: the detected variants run once per policy, through a
// wrapper that calls setupHandoffVariant with that policy (the scenario files themselves use buffer). The
// pre-notified variants have no state gap and run their scenario files as they are.
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
import { MIGRATIONS, setupHandoffVariant } from '../scenarios/models/migration-lab.ts';
import type { StateGapPolicy } from '../sim/middlebox/vm-state.ts';
import { NS_PER_MS } from '../sim/kernel/time.ts';
import { defineScenario, runScenario, type Scenario } from '../sim/testbed/index.ts';
import { benchArgs } from './bench-args.ts';

const GAP_POLICIES: readonly StateGapPolicy[] = ['drop', 'new', 'buffer'];
/** The connection the firewall refuses by design; counting it would hide the migrating ones' losses. */
const REFUSED_CONNECTION = 'a1-late';

const args = benchArgs('migration-variants', { seeds: { type: 'string', default: '20' }, gap: { type: 'string', default: 'buffer' } });
const seeds = args.positiveInteger('seeds');
const gapPolicies = args.gap.split(',').map((g) => {
  if (!GAP_POLICIES.includes(g as StateGapPolicy)) args.fail(`--gap takes a comma list of ${GAP_POLICIES.join(', ')}, got '${g}'`);
  return g as StateGapPolicy;
});
if (new Set(gapPolicies).size !== gapPolicies.length) args.fail(`--gap names a policy twice: '${args.gap}'`);

interface Row {
  readonly variant: string;
  readonly gap: StateGapPolicy | null;
  readonly scenario: Scenario;
}

/** The detected variants' scenario with another gap policy; name, duration and liveness stay the file's. */
function withGapPolicy(file: Scenario, ssm: boolean, gapPolicy: StateGapPolicy): Scenario {
  return defineScenario({ ...file, setup: (world) => void setupHandoffVariant(world, { handoff: 'detected', ssm, gapPolicy }) });
}

const rows: Row[] = [
  { variant: 'prenotify', gap: null, scenario: migrationPrenotify },
  { variant: 'prenotify-ssm', gap: null, scenario: migrationPrenotifySsm },
  ...gapPolicies.map((gap) => ({ variant: 'detected', gap, scenario: withGapPolicy(migrationDetected, false, gap) })),
  ...gapPolicies.map((gap) => ({ variant: 'detected-ssm', gap, scenario: withGapPolicy(migrationDetectedSsm, true, gap) })),
];

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

const header = ['variant', 'gap', 'runs', 'ok_runs', 'migrations_done', 'downtime_median_ms', 'downtime_p99_ms', 'state_bytes_median', 'gap_packets_total', 'gap_packets_median_per_run', 'answered_per_sent_migrating', 'translations_changed'];
const script = relative(process.cwd(), fileURLToPath(import.meta.url));
console.log(`# tsx ${[script, ...process.argv.slice(2)].join(' ')}`);
console.log(`# seeds 1..${seeds}, trace off, each scenario's own faults; gap policies for the detected variants: ${gapPolicies.join(', ')}`);

const table: string[][] = [header];
const footnotes: string[] = [];
for (const row of rows) {
  const began = performance.now();
  const { cells, failures } = sweep(row);
  process.stderr.write(`${row.variant}${row.gap === null ? '' : `/${row.gap}`}: ${seeds} runs in ${((performance.now() - began) / 1000).toFixed(1)} s wall\n`);
  table.push(cells);
  for (const [id, failed] of failures) footnotes.push(`# ${cells[0]}${row.gap === null ? '' : `/${row.gap}`}: ${id} failed in ${failed.length} runs (seeds ${failed.join(', ')})`);
}
const widths = header.map((_, c) => Math.max(...table.map((cells) => cells[c].length)));
for (const cells of table) console.log(cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
for (const line of footnotes) console.log(line);
