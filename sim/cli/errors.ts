// The CLI's error contract: bad input is reported as one line naming the problem, with exit status 2 and
// no stack trace. Owns that distinction and nothing else.

export const EXIT_OK = 0;
export const EXIT_INVARIANT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** An error whose message is for the user, as it stands. */
export class UsageError extends Error {}

/** The first line of an error's message, for one-line reports. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
}
