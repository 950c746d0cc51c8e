/**
 * Recognising phrases in what a consumer writes, the same way everywhere (escalation phrases, the flow bot's
 * intents): case- and accent-insensitive, punctuation ignored, whole words in sequence ("agent" matches "an agent,
 * please" but not "agents" or "reagent").
 */
export function normaliseText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Whether the phrase occurs, as whole words in sequence, in an already normalised text. */
export function containsPhrase(normalisedText: string, phrase: string): boolean {
  const wanted = normaliseText(phrase);
  if (wanted === '') return false;
  return ` ${normalisedText} `.includes(` ${wanted} `);
}

/** The first phrase of the list that occurs in the text, if any. */
export function findPhrase(text: string, phrases: readonly string[]): string | undefined {
  const normalised = normaliseText(text);
  return phrases.find((phrase) => containsPhrase(normalised, phrase));
}
