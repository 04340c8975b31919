// Writing trace.jsonl without leaving half a file behind. Lines are held in memory until the run has been
// validated and the output folder made, then go to DIR/.trace.jsonl.partial in large synchronous writes
// (the simulation is synchronous between progress updates), and the file takes its real name only when
// the run completes. Owns the file; not what goes in it.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceSink } from '../kernel/trace.ts';

const FLUSH_BYTES = 1 << 20;

export class TraceFile implements TraceSink {
  private pending: string[] = [];
  private pendingBytes = 0;
  private fd: number | null = null;
  private partialPath: string | null = null;

  write(line: string): void {
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.fd !== null && this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /** Starts writing into DIR (lines so far included). */
  open(dir: string): void {
    this.partialPath = join(dir, '.trace.jsonl.partial');
    this.fd = openSync(this.partialPath, 'w');
    this.flush();
  }

  /** Flushes, closes and renames the file to DIR/trace.jsonl. Returns its path. */
  commit(dir: string): string {
    this.flush();
    closeSync(this.fd!);
    this.fd = null;
    const path = join(dir, 'trace.jsonl');
    renameSync(this.partialPath!, path);
    return path;
  }

  /** Throws the partial file away. */
  abandon(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.partialPath !== null) rmSync(this.partialPath, { force: true });
    this.pending = [];
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }
}
