// The page: wires the trace sources (file, drop, ?trace=) and the scenario worker (#run, ?scenario=&seed=)
// to the model (loadTrace), and the model to the views. It owns the state shown — the trace, the time, the
// selected node and packet — and redraws every view from model.viewAt(time) whenever any of it changes.
// It also keeps window.__nvsimView and window.__nvsimRun for tests and scripts. A bad trace, a failed fetch
// or run leaves one line in #error and the previous view as it was.

import './views/page.css';
import { loadTrace } from './model/load-trace.ts';
import type { Nanos, PacketHop, PacketSummary, TraceModel, ViewState } from './model/types.ts';
import { firstLineOf } from './run/first-line.ts';
import type { ScenarioInfo } from './run/run-protocol.ts';
import { parseSeed } from './run/seed-text.ts';
import { listScenarios, runInWorker, RunCancelled, type WorkerRun } from './run/worker-client.ts';
import { ChartsView } from './views/charts-view.ts';
import { FaultsNowView } from './views/faults-now-view.ts';
import { renderInvariants } from './views/invariants-view.ts';
import { LdpsView } from './views/ldps-view.ts';
import { renderLegend } from './views/legend-view.ts';
import { markShapeOf } from './views/node-marks.ts';
import { packetEdges, type PathEdge } from './views/packet-path.ts';
import { PacketsView } from './views/packets-view.ts';
import { controllerColors } from './views/palette.ts';
import { Playback } from './views/playback.ts';
import { SelectionView } from './views/selection-view.ts';
import { StatusView, type RunStatus } from './views/status-view.ts';
import { TimelineView } from './views/timeline-view.ts';
import { layoutTopology } from './views/topology-layout.ts';
import { TopologyView } from './views/topology-view.ts';
import { fetchTrace, watchDrops, watchFilePicker, type TraceSourceHandlers } from './views/trace-sources.ts';
import { ViolationsView } from './views/violations-view.ts';

interface RunHook {
  status: RunStatus;
  hash: string | null;
  error: string | null;
}

declare global {
  interface Window {
    /** The state shown (the model's ViewState at the current time), or null before any trace. */
    __nvsimView: ViewState | null;
    __nvsimRun: RunHook;
  }
}

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

interface Shown {
  readonly model: TraceModel;
  readonly name: string;
  readonly colors: ReadonlyMap<string, string>;
  readonly eventTimes: readonly Nanos[];
}

let shown: Shown | null = null;
let time: Nanos = 0;
let selected: string | null = null;
let packet: { summary: PacketSummary; hops: readonly PacketHop[]; path: readonly PathEdge[] } | null = null;
let currentRun: WorkerRun | null = null;

const status = new StatusView({
  source: element('trace-source'),
  hash: element('trace-hash'),
  runStatus: element('run-status'),
  runProgress: element<HTMLProgressElement>('run-progress'),
  error: element('error'),
});
const topology = new TopologyView(element<HTMLCanvasElement>('topology'), (id) => {
  selected = id;
  render();
});
const timeline = new TimelineView(element('timeline'), setTime, (entry) => setTime(entry.t));
const playback = new Playback(
  {
    play: element('play'),
    pause: element('pause'),
    stepBack: element('step-back'),
    stepForward: element('step-forward'),
    scrub: element('scrub'),
    time: element('time'),
    speed: element('speed'),
  },
  setTime,
);
const packets = new PacketsView(element('packets'), element('packet-filter'), element('packet-hops'), (summary) => {
  if (shown === null) return;
  const hops = shown.model.packetPath(summary.packetId);
  packet = { summary, hops, path: packetEdges(summary.from, hops) };
  packets.showHops(summary, packet.hops);
  setTime(summary.t);
});
const violations = new ViolationsView(element('violations'), setTime);
const charts = new ChartsView(element('charts'));
const ldps = new LdpsView(element('ldps'));
const faultsNow = new FaultsNowView(element('faults-now'));
const selection = new SelectionView(element('selection'));

window.__nvsimView = null;
window.__nvsimRun = { status: 'idle', hash: null, error: null };

/** Shows a new trace, or says why it cannot and keeps the one shown. Returns the error, or null. */
function showTrace(text: string, name: string): string | null {
  let model: TraceModel;
  try {
    model = loadTrace(text);
  } catch (e) {
    const message = `${name}: ${firstLineOf(e)}`;
    status.showError(message);
    status.restore(shown?.model.meta ?? null, shown?.name ?? null);
    return message;
  }
  const controllers = model.nodes.filter((n) => n.role === 'controller').map((n) => n.id);
  shown = { model, name, colors: controllerColors(controllers), eventTimes: model.timeline.map((e) => e.t) };
  selected = null;
  packet = null;
  status.showError(null);
  status.showTrace(model.meta, name);
  topology.setTrace(layoutTopology(model.nodes), model.tunnels);
  timeline.setTrace(model.timeline, model.meta.endNs);
  playback.setTrace(model.meta.endNs, shown.eventTimes);
  packets.setTrace(model.packets);
  violations.setTrace(model.viewAt(model.meta.endNs).violations);
  charts.setTrace(model);
  selection.setTrace(model);
  renderLegend(element('legend'), shown.colors, new Set(model.nodes.map((n) => markShapeOf(n.role))));
  renderInvariants(element('invariants'), []);
  offerRerun(model.meta.scenario, model.meta.seed);
  setTime(0);
  return null;
}

/** Sets the run form to a trace's scenario and seed, so Run reproduces what is shown. */
function offerRerun(scenario: string | null, seed: number | null): void {
  const select = element<HTMLSelectElement>('scenario');
  if (scenario !== null && [...select.options].some((o) => o.value === scenario)) select.value = scenario;
  if (seed !== null) element<HTMLInputElement>('seed').value = String(seed);
}

function setTime(t: Nanos): void {
  if (shown === null) return;
  time = Math.min(shown.model.meta.endNs, Math.max(0, Math.round(t)));
  render();
}

/** Redraws every view for the current time and selection. */
function render(): void {
  if (shown === null) return;
  const { model, colors } = shown;
  const view = model.viewAt(time);
  window.__nvsimView = view;
  const entriesNow = model.timeline.filter((e) => e.t === time);
  const packetNodes = packet === null ? [] : [packet.summary.from, ...packet.hops.map((h) => h.node)];
  const highlighted = new Set([...entriesNow.flatMap((e) => e.nodes), ...packetNodes]);
  playback.show(time);
  topology.show({ view, colors, selected, highlighted, packetPath: packet?.path ?? [] });
  timeline.show(time, entriesNow);
  charts.show(time, selected);
  violations.show(time);
  ldps.show(model.ldpses, view, colors);
  faultsNow.show(view);
  selection.show(model, view, selected);
}

/** What to do with a trace from a file, a drop or a URL; `address` is the query to show once it is shown. */
function traceHandlers(address: Record<string, string>): TraceSourceHandlers {
  return {
    loading: (name) => status.loading(name),
    loaded: (text, name) => {
      if (showTrace(text, name) !== null) return;
      setUrl(address);
      // A trace opened while a scenario runs replaces it: the run would otherwise take the view back.
      if (currentRun !== null) {
        currentRun.cancel();
        currentRun = null;
        setRun({ status: 'idle', hash: null, error: null });
      }
    },
    failed: (message) => {
      status.showError(message);
      status.restore(shown?.model.meta ?? null, shown?.name ?? null);
    },
  };
}

function setRun(next: RunHook): void {
  window.__nvsimRun = next;
  status.showRun(next.status, next.error);
  if (next.status === 'error') status.showError(next.error);
}

function startRun(scenario: string, seed: number): void {
  currentRun?.cancel();
  status.showError(null);
  setRun({ status: 'running', hash: null, error: null });
  setUrl({ scenario, seed: String(seed) });
  const run = runInWorker(scenario, seed, (nowNs, untilNs) => status.runProgress(nowNs, untilNs));
  currentRun = run;
  run.finished.then(
    ({ text, outcome }) => {
      if (currentRun !== run) return;
      currentRun = null;
      const failure = showTrace(text, 'run in this page');
      if (failure !== null) return setRun({ status: 'error', hash: null, error: failure });
      const hash = shown!.model.meta.hash;
      // The page hashes the text it received; the worker hashed what it recorded. They must agree.
      if (hash !== outcome.traceHash) return setRun({ status: 'error', hash, error: `trace hash ${hash} differs from the run's ${outcome.traceHash}` });
      renderInvariants(element('invariants'), outcome.invariants);
      setRun({ status: 'done', hash, error: null });
    },
    (e: unknown) => {
      if (e instanceof RunCancelled || currentRun !== run) return;
      currentRun = null;
      setRun({ status: 'error', hash: null, error: firstLineOf(e) });
    },
  );
}

/** Keeps the address bar pointing at what is shown, so a reload or a shared link shows it again. */
function setUrl(params: Record<string, string>): void {
  const url = new URL(window.location.href);
  url.search = new URLSearchParams(params).toString();
  window.history.replaceState(null, '', url);
}

function fillScenarioList(select: HTMLSelectElement, scenarios: readonly ScenarioInfo[], chosen: string | null): void {
  select.replaceChildren(
    ...scenarios.map((s) => {
      const option = document.createElement('option');
      option.value = s.name;
      option.textContent = s.name;
      option.title = s.description;
      return option;
    }),
  );
  if (chosen !== null && scenarios.some((s) => s.name === chosen)) select.value = chosen;
  select.disabled = false;
}

function start(): void {
  const scenarioSelect = element<HTMLSelectElement>('scenario');
  const seedInput = element<HTMLInputElement>('seed');
  const params = new URLSearchParams(window.location.search);
  const scenarioParam = params.get('scenario');
  const seedParam = params.get('seed');
  if (seedParam !== null) seedInput.value = seedParam;

  watchFilePicker(element('trace-file'), traceHandlers({}));
  watchDrops(document.body, traceHandlers({}));
  element('run').addEventListener('click', () => {
    if (scenarioSelect.value === '') return setRun({ status: 'error', hash: null, error: 'no scenario chosen' });
    try {
      startRun(scenarioSelect.value, parseSeed(seedInput.value));
    } catch (e) {
      setRun({ status: 'error', hash: null, error: firstLineOf(e) });
    }
  });
  listScenarios().then(
    (scenarios) => fillScenarioList(scenarioSelect, scenarios, scenarioParam ?? shown?.model.meta.scenario ?? null),
    (e: unknown) => status.showError(`cannot list the scenarios: ${firstLineOf(e)}`),
  );

  // ?scenario= wins over ?trace= when both are given: the run is what the address asks to reproduce.
  if (scenarioParam !== null) {
    try {
      startRun(scenarioParam, parseSeed(seedParam ?? '1'));
    } catch (e) {
      setRun({ status: 'error', hash: null, error: firstLineOf(e) });
    }
  } else {
    const traceParam = params.get('trace');
    if (traceParam !== null) void fetchTrace(traceParam, traceHandlers({ trace: traceParam }));
  }
}

start();
