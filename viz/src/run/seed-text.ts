// Reading a seed typed by a person or given in `?seed=`: an integer, exactly as `nvsim run --seed` takes
// it, so the same text gives the same run in both. Owns that check only.

/** The seed `text` names; throws one line when it is not a safe integer. */
export function parseSeed(text: string): number {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) throw new Error(`the seed must be an integer, got '${text}'`);
  return Number(trimmed);
}
