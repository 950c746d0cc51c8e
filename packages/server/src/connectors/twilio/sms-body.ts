import type { OutboundMessage } from '../channel-connector.ts';

/** Twilio refuses a `Body` longer than 1,600 characters (error 21617); it splits shorter ones into segments itself. */
export const SMS_BODY_LIMIT = 1600;
export const NUMBERED_REPLY_HINT = 'Reply with a number.';
export const SHORTENED_NOTE = '… (message shortened)';

/**
 * The text of a Parley message as one SMS: its text (or the file's caption when it has no text), then its quick
 * replies as a numbered list and a hint, since SMS has no buttons:
 *
 *     Which size?
 *
 *     1. Small
 *     2. Large
 *     Reply with a number.
 *
 * A body over 1,600 characters is shortened, not split: one Parley message stays one Twilio message with one id (its
 * delivery statuses map one to one, and a retried send cannot leave half of it delivered twice). The text is cut at
 * a word where it can, marked with "… (message shortened)", and the options and hint are always kept whole.
 */
export function renderSmsBody(message: Pick<OutboundMessage, 'text' | 'quickReplies' | 'media'>): string {
  const text = (message.text.trim() || message.media?.caption?.trim()) ?? '';
  const options = message.quickReplies.map((reply, i) => `${i + 1}. ${reply.title.trim()}`);
  const suffix = options.length > 0 ? `${options.join('\n')}\n${NUMBERED_REPLY_HINT}` : '';
  const separator = text && suffix ? '\n\n' : '';
  const body = text + separator + suffix;
  if (body.length <= SMS_BODY_LIMIT) return body;
  const room = SMS_BODY_LIMIT - suffix.length - separator.length - SHORTENED_NOTE.length;
  // Options alone beyond the limit (dozens of long titles): nothing sensible to keep whole, cut the lot.
  if (room < 1) return cut(body, SMS_BODY_LIMIT - SHORTENED_NOTE.length) + SHORTENED_NOTE;
  return cut(text, room) + SHORTENED_NOTE + separator + suffix;
}

/**
 * The option a consumer chose by answering with its number ("2", "2.", "#2", " 2) "), among the options last offered
 * to them (the framework remembers them); null when the text is not such an answer or the number is out of range.
 */
export function resolveNumberedReply(text: string, lastOffered: readonly string[]): string | null {
  const match = /^#?\s*(\d{1,3})\s*[.)]?$/.exec(text.trim());
  if (!match?.[1]) return null;
  const index = Number.parseInt(match[1], 10) - 1;
  return lastOffered[index] ?? null;
}

/** At most `max` UTF-16 units, preferring to end at a space, never inside a surrogate pair. */
function cut(text: string, max: number): string {
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  const space = text.lastIndexOf(' ', end);
  if (space > end * 0.8) end = space;
  return text.slice(0, end).trimEnd();
}
