// `nvsim run <scenario> [--seed N] [--until 10s] [--out DIR] [--trace off|summary|full] [--faults …]`.
// Everything the user gave is checked, and the world built and its faults loaded, before DIR is touched;
// then the run goes in slices (progress between them), and trace.jsonl and summary.json appear only when
// it completes. Owns this command's flow and summary.json's shape; the simulation itself is the testbed's.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseFaultSchedule, scheduleToJson } from '../faults/schedule.ts';
import { formatSeconds, parseDuration, type Nanos } from '../kernel/time.ts';
import { TRACE_LEVELS, type TraceLevel } from '../kernel/trace.ts';
import { ScenarioRun, type FaultChoice, type RunResult } from '../testbed/run.ts';
import { EXIT_INVARIANT_FAILED, EXIT_OK, firstLine, UsageError } from './errors.ts';
import { loadScenario } from './load-scenario.ts';
import { createProgress } from './progress.ts';
import { TraceFile } from './trace-file.ts';

export interface RunFlags {
  seed?: string;
  until?: string;
  out?: string;
  trace?: string;
  faults?: string;
  progress?: boolean;
}

export interface Summary extends RunResult {
  wallSeconds: number;
  eventsPerSecond: number;
  replay: string;
  files: { trace: string | null; summary: string; faults: string };
}

/** Events per slice between progress updates: small enough to update a few times a second. */
const SLICE_EVENTS = 100_000;

export async function runCommand(scenarioArg: string, flags: RunFlags): Promise<number> {
  const seed = parseSeed(flags.seed ?? '1');
  const untilNs = flags.until === undefined ? undefined : parseUntil(flags.until);
  const traceLevel = parseTraceLevel(flags.trace ?? 'full');
  const faults = parseFaultsFlag(flags.faults);
  const { path, scenario } = await loadScenario(scenarioArg);
  const outDir = resolve(flags.out ?? join('out', `${scenario.name}-seed${seed}`));
  if (existsSync(outDir) && readdirSync(outDir).some((f) => f.endsWith('.partial'))) {
    throw new UsageError(`${outDir} holds a partial trace from another run that is still going or was killed; remove it first`);
  }

  const traceFile = traceLevel === 'off' ? null : new TraceFile();
  let run: ScenarioRun;
  try {
    run = new ScenarioRun(scenario, { seed, untilNs, trace: traceLevel, traceSink: traceFile ?? undefined, faults });
  } catch (e) {
    throw new UsageError(firstLine(e));
  }

  const createdDir = !existsSync(outDir);
  mkdirSync(outDir, { recursive: true });
  let result: RunResult;
  const started = performance.now(); // wall-clock: wallSeconds in the summary
  try {
    traceFile?.open(outDir);
    const progress = flags.progress === false ? null : createProgress(scenario.name, run.untilNs);
    while (!run.advance(SLICE_EVENTS)) {
      progress?.update(run.progress.nowNs, run.progress.events);
      await new Promise((r) => setImmediate(r)); // lets the progress display draw; the simulation is unaffected
    }
    progress?.update(run.progress.nowNs, run.progress.events);
    progress?.stop();
    result = run.finish();
  } catch (e) {
    traceFile?.abandon();
    if (createdDir && readdirSync(outDir).length === 0) rmdirSync(outDir);
    throw new UsageError(`scenario ${scenario.name} failed at virtual ${formatSeconds(run.world.now)}: ${firstLine(e)}`);
  }
  const wallSeconds = (performance.now() - started) / 1000; // wall-clock: wallSeconds in the summary

  const tracePath = traceFile?.commit(outDir) ?? null;
  if (tracePath === null) rmSync(join(outDir, 'trace.jsonl'), { force: true }); // a stale trace would not match this summary
  const faultsPath = join(outDir, 'faults.json');
  writeAtomically(faultsPath, JSON.stringify(scheduleToJson(run.faultSchedule), null, 2) + '\n');
  const summaryPath = join(outDir, 'summary.json');
  const summary: Summary = {
    ...result,
    wallSeconds: round(wallSeconds, 3),
    eventsPerSecond: Math.round(result.events / Math.max(wallSeconds, 1e-9)),
    replay: replayCommand(path, seed, flags, faultsPath),
    files: { trace: tracePath, summary: summaryPath, faults: faultsPath },
  };
  writeAtomically(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  printSummary(summary);
  return summary.ok ? EXIT_OK : EXIT_INVARIANT_FAILED;
}

function parseSeed(text: string): number {
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--seed must be an integer, got '${text}'`);
  }
  return Number(text);
}

function parseUntil(text: string): Nanos {
  let t: Nanos;
  try {
    t = parseDuration(text);
  } catch (e) {
    throw new UsageError(`--until: ${firstLine(e)}`);
  }
  if (t <= 0) throw new UsageError(`--until must be a positive duration, got '${text}'`);
  return t;
}

function parseTraceLevel(text: string): TraceLevel {
  if (!(TRACE_LEVELS as readonly string[]).includes(text)) throw new UsageError(`--trace must be one of ${TRACE_LEVELS.join(', ')}, got '${text}'`);
  return text as TraceLevel;
}

/** `--faults scenario|none|swarm|FILE.json`. */
function parseFaultsFlag(text: string | undefined): FaultChoice {
  if (text === undefined || text === 'scenario') return { source: 'scenario' };
  if (text === 'none' || text === 'swarm') return { source: text };
  if (!existsSync(text)) throw new UsageError(`--faults: no such file '${text}' (or use scenario, none, swarm)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(text, 'utf8'));
  } catch (e) {
    throw new UsageError(`--faults: ${text} is not valid JSON: ${firstLine(e)}`);
  }
  try {
    return { source: 'given', schedule: parseFaultSchedule(json) };
  } catch (e) {
    throw new UsageError(`--faults ${text}: ${firstLine(e)}`);
  }
}

/** The command that replays this run exactly: same scenario, seed, length and faults. */
function replayCommand(scenarioPath: string, seed: number, flags: RunFlags, faultsPath: string): string {
  const parts = ['nvsim', 'run', relative(process.cwd(), scenarioPath), '--seed', String(seed)];
  if (flags.until !== undefined) parts.push('--until', flags.until);
  if (flags.faults !== undefined && flags.faults !== 'scenario') {
    parts.push('--faults', flags.faults === 'none' || flags.faults === 'swarm' ? flags.faults : relative(process.cwd(), faultsPath));
  }
  return parts.join(' ');
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.partial`, text);
  renameSync(`${path}.partial`, path);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function printSummary(s: Summary): void {
  const failed = s.invariants.filter((i) => !i.ok);
  const out: string[] = [];
  out.push(`${s.scenario} seed ${s.seed}: ${failed.length === 0 ? `all ${s.invariants.length} invariants held` : `${failed.length} of ${s.invariants.length} invariants FAILED`}`);
  const width = Math.max(0, ...s.invariants.map((i) => i.id.length));
  for (const i of s.invariants) out.push(`  ${i.ok ? 'ok  ' : 'FAIL'}  ${i.id.padEnd(width)}  ${i.detail}`);
  out.push(
    `virtual ${formatSeconds(s.virtualEndNs)}, ${s.events} events in ${s.wallSeconds.toFixed(2)}s wall (${s.eventsPerSecond} events/s), ` +
      `faults: ${s.faults.source} (${s.faults.applied} applied), trace hash ${s.traceHash ?? 'none (tracing off)'}`,
  );
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  out.push(`trace: ${s.files.trace === null ? 'not written (--trace off)' : `${rel(s.files.trace)} (${s.traceLines} lines)`}`);
  out.push(`summary: ${rel(s.files.summary)}`);
  if (failed.length > 0) out.push(`replay: ${s.replay}`);
  process.stdout.write(out.join('\n') + '\n');
}
