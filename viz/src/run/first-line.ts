// Turning any thrown value into one line of text for the page's error line and run status. Owns that and
// nothing else.

/** The first non-blank line of an error's message, trimmed (at most `maxChars` characters). */
export function firstLineOf(error: unknown, maxChars = 300): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}
