// The time controls: #play and #pause (virtual time runs at the #speed chosen, against the wall clock,
// which is fine here: it paces the display only), #step-back and #step-forward (to the previous or next
// timeline event), #scrub (a range over [0, endNs] in nanoseconds) and #time (the instant shown). Space,
// ← and → do the same unless a field has the keyboard. Owns the controls and the play loop; the page
// owns the time and tells the controls through show().

import type { Nanos } from '../model/types.ts';
import { formatInstant } from './time-format.ts';
import { nextTime, previousTime } from './timeline-steps.ts';

export interface PlaybackElements {
  readonly play: HTMLButtonElement;
  readonly pause: HTMLButtonElement;
  readonly stepBack: HTMLButtonElement;
  readonly stepForward: HTMLButtonElement;
  readonly scrub: HTMLInputElement;
  readonly time: HTMLElement;
  /** Virtual seconds per wall second. */
  readonly speed: HTMLSelectElement;
}

export class Playback {
  private endNs: Nanos = 0;
  private eventTimes: readonly Nanos[] = [];
  private current: Nanos = 0;
  private playing = false;
  private lastFrameMs: number | null = null;

  constructor(
    private readonly els: PlaybackElements,
    private readonly onTime: (t: Nanos) => void,
  ) {
    els.play.addEventListener('click', () => this.play());
    els.pause.addEventListener('click', () => this.pause());
    els.stepBack.addEventListener('click', () => this.step(-1));
    els.stepForward.addEventListener('click', () => this.step(1));
    els.scrub.addEventListener('input', () => this.onTime(Number(els.scrub.value)));
    document.addEventListener('keydown', (event) => this.key(event));
    this.enable(false);
  }

  /** A new trace: the range to scrub and the event times to step between (sorted ascending). */
  setTrace(endNs: Nanos, eventTimes: readonly Nanos[]): void {
    this.pause();
    this.endNs = endNs;
    this.eventTimes = eventTimes;
    this.els.scrub.min = '0';
    this.els.scrub.max = String(endNs);
    this.els.scrub.step = '1';
    this.enable(true);
  }

  show(t: Nanos): void {
    this.current = t;
    this.els.scrub.value = String(t);
    this.els.time.textContent = formatInstant(t);
  }

  pause(): void {
    this.playing = false;
    this.lastFrameMs = null;
    this.els.play.disabled = this.els.scrub.disabled;
    this.els.pause.disabled = true;
  }

  private play(): void {
    if (this.playing) return;
    if (this.current >= this.endNs) this.onTime(0);
    this.playing = true;
    this.els.play.disabled = true;
    this.els.pause.disabled = false;
    requestAnimationFrame((now) => this.frame(now));
  }

  private frame(nowMs: number): void {
    if (!this.playing) return;
    if (this.lastFrameMs !== null) {
      const virtualPerWallMs = Number(this.els.speed.value) * 1e6;
      const next = Math.min(this.endNs, Math.round(this.current + (nowMs - this.lastFrameMs) * virtualPerWallMs));
      this.onTime(next);
      if (next >= this.endNs) {
        this.pause();
        return;
      }
    }
    this.lastFrameMs = nowMs;
    requestAnimationFrame((now) => this.frame(now));
  }

  private step(direction: -1 | 1): void {
    this.pause();
    const target = direction < 0 ? previousTime(this.eventTimes, this.current) : nextTime(this.eventTimes, this.current);
    this.onTime(target ?? (direction < 0 ? 0 : this.endNs));
  }

  private key(event: KeyboardEvent): void {
    if (this.els.scrub.disabled || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement;
    // Fields keep their keys; so do buttons for Space, which presses them. The scrub bar's own arrow keys
    // would move by one nanosecond, which shows nothing, so there arrows step between events too.
    if (target.closest('input, select, textarea') !== null && target !== this.els.scrub) return;
    if (event.key === ' ' && target.closest('button') === null) {
      if (this.playing) this.pause();
      else this.play();
    } else if (event.key === 'ArrowLeft') this.step(-1);
    else if (event.key === 'ArrowRight') this.step(1);
    else return;
    event.preventDefault();
  }

  private enable(on: boolean): void {
    for (const el of [this.els.play, this.els.stepBack, this.els.stepForward, this.els.scrub, this.els.speed]) el.disabled = !on;
    this.els.pause.disabled = true;
  }
}
