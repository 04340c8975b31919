// How the model turns values into one line of plain text: untrusted strings from a trace flattened to one
// line and cut to a bounded length, virtual durations, IPv4 addresses. Owns only formatting; it never
// escapes for HTML, because the page only ever sets text (textContent, d3's .text()), never markup.

// Line breaks and other control characters would let one label span several lines.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** `text` on one line (control characters become a space), at most `maxChars` UTF-16 units long. */
export function oneLine(text: string, maxChars = 200): string {
  const flat = text.replace(CONTROL_CHARS, ' ');
  if (flat.length <= maxChars) return flat;
  let cut = maxChars - 1;
  // Never leave half of a surrogate pair at the cut.
  const last = flat.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return flat.slice(0, cut) + '…';
}

const NS_PER_US = 1_000;
const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;

/** A virtual duration for people: "850 ns", "12.5 µs", "6.69 ms", "1.04 s". */
export function formatDuration(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < NS_PER_US) return `${ns} ns`;
  if (abs < NS_PER_MS) return `${round3(ns / NS_PER_US)} µs`;
  if (abs < NS_PER_S) return `${round3(ns / NS_PER_MS)} ms`;
  return `${round3(ns / NS_PER_S)} s`;
}

function round3(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** An IPv4 address held as an unsigned 32-bit integer, dotted ("10.0.0.1"). */
export function ipv4(address: number): string {
  const a = address >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}
