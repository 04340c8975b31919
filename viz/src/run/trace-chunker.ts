// A trace sink that gathers recorded lines into chunks of about `chunkChars` characters and hands each to
// `emit`, so a big trace crosses from the worker to the page in a few large messages rather than one per
// line or one enormous string at the end. Owns the batching only; what a line says is the recorder's.

import type { TraceSink } from '../../../sim/kernel/trace.ts';

/** About 1 MiB of UTF-16: large enough that posting costs little, small enough to never stall the page. */
const DEFAULT_CHUNK_CHARS = 1 << 20;

export class TraceChunker implements TraceSink {
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly chunkChars: number = DEFAULT_CHUNK_CHARS,
  ) {}

  write(line: string): void {
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= this.chunkChars) this.flush();
  }

  /** Hands over whatever is left; call once the run has ended. */
  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    this.emit(text);
  }
}
