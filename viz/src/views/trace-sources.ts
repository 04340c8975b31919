// Where a trace's text comes from: the file picker (#trace-file), a file dropped anywhere on the page, or a
// `?trace=<url>` fetched over http(s). Each hands over the text and a name to show, or one line of error.
// Owns reading and fetching only; the text is never run or parsed here — the page gives it to loadTrace.

import { assertTraceSize } from '../model/index.ts';
import { firstLineOf } from '../run/first-line.ts';

export interface TraceSourceHandlers {
  loading(name: string): void;
  loaded(text: string, name: string): void;
  failed(message: string): void;
}

export function watchFilePicker(input: HTMLInputElement, handlers: TraceSourceHandlers): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file !== undefined) void readFile(file, handlers);
    // Cleared, so picking the same file again (after editing it) loads it again.
    input.value = '';
  });
}

/** A file dropped anywhere on `zone`; `zone` carries the class "dropping" while one is dragged over it. */
export function watchDrops(zone: HTMLElement, handlers: TraceSourceHandlers): void {
  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  zone.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer!.dropEffect = 'copy';
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) zone.classList.remove('dropping');
  });
  zone.addEventListener('drop', (event) => {
    zone.classList.remove('dropping');
    if (!carriesFiles(event)) return;
    event.preventDefault();
    const file = event.dataTransfer!.files[0];
    if (file !== undefined) void readFile(file, handlers);
  });
}

/** Fetches `?trace=` (relative to the page). Only http(s): a trace URL must not reach other schemes. */
export async function fetchTrace(param: string, handlers: TraceSourceHandlers): Promise<void> {
  let url: URL;
  try {
    url = new URL(param, window.location.href);
  } catch {
    handlers.failed(`?trace=${param} is not a URL`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    handlers.failed(`?trace must be an http(s) URL, not ${url.protocol}`);
    return;
  }
  const name = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1)) || url.href;
  handlers.loading(name);
  let text: string;
  try {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) {
      handlers.failed(`cannot fetch ${url.href}: HTTP ${response.status}`);
      return;
    }
    text = await response.text();
  } catch (e) {
    handlers.failed(`cannot fetch ${url.href}: ${firstLineOf(e)}`);
    return;
  }
  handlers.loaded(text, name);
}

async function readFile(file: File, handlers: TraceSourceHandlers): Promise<void> {
  // Refused before reading: a hostile file's size alone must not exhaust the page's memory.
  try {
    assertTraceSize(file.size);
  } catch (e) {
    handlers.failed(`${file.name}: ${firstLineOf(e)}`);
    return;
  }
  handlers.loading(file.name);
  let text: string;
  try {
    text = await file.text();
  } catch (e) {
    handlers.failed(`cannot read ${file.name}: ${firstLineOf(e)}`);
    return;
  }
  handlers.loaded(text, file.name);
}
