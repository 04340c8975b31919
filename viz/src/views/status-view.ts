// The header's words: which trace is shown (#trace-source: scenario, seed, file), its hash (#trace-hash),
// the state of a scenario run (#run-status, #run-progress) and the error line (#error, role=alert). Owns
// those elements' text; what happened is the page's to say.

import type { TraceMeta } from '../model/types.ts';

export interface StatusElements {
  readonly source: HTMLElement;
  readonly hash: HTMLElement;
  readonly runStatus: HTMLElement;
  readonly runProgress: HTMLProgressElement;
  readonly error: HTMLElement;
}

export type RunStatus = 'idle' | 'running' | 'done' | 'error';

export class StatusView {
  constructor(private readonly els: StatusElements) {}

  loading(name: string): void {
    this.els.source.textContent = `loading ${name} …`;
  }

  showTrace(meta: TraceMeta, name: string): void {
    const parts = [meta.scenario ?? name];
    if (meta.seed !== null) parts.push(`seed ${meta.seed}`);
    if (meta.scenario !== null) parts.push(name);
    parts.push(`${meta.lines.toLocaleString('en')} line${meta.lines === 1 ? '' : 's'}`);
    this.els.source.textContent = parts.join(' · ');
    this.els.hash.textContent = meta.hash;
  }

  /** Restores the source line after a failed load (the previous trace stays shown). */
  restore(meta: TraceMeta | null, name: string | null): void {
    if (meta !== null && name !== null) this.showTrace(meta, name);
    else this.els.source.textContent = 'no trace';
  }

  showRun(status: RunStatus, error: string | null): void {
    const text = { idle: '', running: 'running …', done: 'done', error: `error: ${error ?? ''}` }[status];
    this.els.runStatus.textContent = text;
    this.els.runStatus.dataset.status = status;
    this.els.runProgress.hidden = status !== 'running';
    if (status === 'running') this.els.runProgress.value = 0;
  }

  runProgress(nowNs: number, untilNs: number): void {
    this.els.runProgress.value = untilNs > 0 ? nowNs / untilNs : 0;
  }

  /** One line, or null to clear it. */
  showError(message: string | null): void {
    this.els.error.textContent = message ?? '';
  }
}
