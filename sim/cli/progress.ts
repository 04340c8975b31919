// Showing a run's progress: a bar on a terminal (virtual time reached, events per second), plain lines
// about once a second otherwise (CI logs, pipes). Owns the display only; reads the wall clock, which is
// allowed here because nothing in the simulation depends on it.

import cliProgress from 'cli-progress';
import { formatSeconds, NS_PER_S, type Nanos } from '../kernel/time.ts';

export interface ProgressView {
  update(nowNs: Nanos, events: number): void;
  stop(): void;
}

export function createProgress(label: string, untilNs: Nanos, stream: NodeJS.WriteStream = process.stderr): ProgressView {
  const started = performance.now(); // wall-clock: progress display only
  const rate = (events: number) => {
    const seconds = (performance.now() - started) / 1000; // wall-clock: progress display only
    return seconds > 0 ? Math.round(events / seconds) : 0;
  };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} {bar} {percentage}% | virtual {virtual} of {until} | {events} events | {rate} events/s`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(untilNs / NS_PER_S, 0, { virtual: formatSeconds(0), until: formatSeconds(untilNs), events: 0, rate: 0 });
    return {
      update(nowNs, events) {
        bar.update(nowNs / NS_PER_S, { virtual: formatSeconds(nowNs), events, rate: rate(events) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  // Plain lines: about one a second, and a last one when the run ends, so every run shows at least one.
  let lastLine = started;
  let latest = { nowNs: 0, events: 0 };
  const line = () =>
    stream.write(`progress: ${label} virtual ${formatSeconds(latest.nowNs)} of ${formatSeconds(untilNs)}, ${latest.events} events, ${rate(latest.events)} events/s\n`);
  return {
    update(nowNs, events) {
      latest = { nowNs, events };
      const now = performance.now(); // wall-clock: progress display only
      if (now - lastLine < 1000) return;
      lastLine = now;
      line();
    },
    stop: line,
  };
}
