import { type OutboundMessage, ProviderError } from '../channel-connector.ts';

/** Meta's Send API (`POST /{version}/me/messages`): the request bodies Parley sends and the errors it gets back. */
export const GRAPH_API_VERSION = 'v21.0';
export const MESSENGER_TEXT_LIMIT = 2000;
export const MESSENGER_QUICK_REPLY_LIMIT = 13;
export const MESSENGER_QUICK_REPLY_TITLE_LIMIT = 20;
export const MESSENGER_QUICK_REPLY_PAYLOAD_LIMIT = 1000;

export type AttachmentType = 'image' | 'video' | 'audio' | 'file';

export interface SendApiQuickReply {
  content_type: 'text';
  title: string;
  payload: string;
}

export interface SendApiRequest {
  recipient: { id: string };
  messaging_type: 'RESPONSE' | 'UPDATE' | 'MESSAGE_TAG';
  tag?: string;
  message: {
    text?: string;
    attachment?: { type: AttachmentType; payload: { url: string; is_reusable: boolean } };
    quick_replies?: SendApiQuickReply[];
  };
}

export interface SendApiResponse {
  recipient_id: string;
  message_id: string;
}

export interface GraphError {
  message: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  fbtrace_id?: string;
}

/**
 * One Parley message as the Send API calls that carry it, in order: the file (an attachment by URL), then its caption
 * and the text (each cut into parts of at most 2000 characters); the quick replies ride on the last call, since
 * Messenger shows them under the latest message and dismisses them on the next one.
 */
export function buildSendRequests(to: string, message: OutboundMessage): SendApiRequest[] {
  const bodies: SendApiRequest['message'][] = [];
  if (message.media) {
    bodies.push({ attachment: { type: attachmentTypeOf(message.media.contentType), payload: { url: message.media.url, is_reusable: false } } });
  }
  const texts = [message.media?.caption, message.text].map((text) => text?.trim() ?? '').filter((text, index, all) => text !== '' && all.indexOf(text) === index);
  for (const text of texts) for (const part of splitText(text)) bodies.push({ text: part });

  const quickReplies = toQuickReplies(message.quickReplies);
  const last = bodies.at(-1);
  if (!last) throw new ProviderError('Messenger cannot send an empty message: it needs a text or a file.', false, 'invalid_message');
  if (quickReplies.length > 0) last.quick_replies = quickReplies;
  return bodies.map((body) => ({ recipient: { id: to }, messaging_type: 'RESPONSE', message: body }));
}

export function attachmentTypeOf(contentType: string): AttachmentType {
  const type = contentType.toLowerCase();
  if (type.startsWith('image/') && !type.startsWith('image/svg')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'file';
}

/**
 * At most 13 quick replies with titles of at most 20 characters (Meta cuts longer ones anyway; cutting here adds an
 * ellipsis so the person sees it was cut). Payloads are never cut, since a cut payload would mean something else: a
 * longer one is refused. Quick replies past the 13th are dropped.
 */
function toQuickReplies(quickReplies: OutboundMessage['quickReplies']): SendApiQuickReply[] {
  const result: SendApiQuickReply[] = [];
  for (const { title, payload } of quickReplies.slice(0, MESSENGER_QUICK_REPLY_LIMIT)) {
    if (payload.length > MESSENGER_QUICK_REPLY_PAYLOAD_LIMIT) {
      throw new ProviderError(`A quick reply's payload is longer than Messenger's ${MESSENGER_QUICK_REPLY_PAYLOAD_LIMIT} characters.`, false, 'invalid_message');
    }
    const shown = truncateTitle(title.trim() || payload);
    if (shown) result.push({ content_type: 'text', title: shown, payload: payload || shown });
  }
  return result;
}

export function truncateTitle(title: string, limit = MESSENGER_QUICK_REPLY_TITLE_LIMIT): string {
  const characters = Array.from(title);
  if (characters.length <= limit) return title;
  return `${characters
    .slice(0, limit - 1)
    .join('')
    .trimEnd()}…`;
}

/**
 * Cuts a text into parts of at most `limit` UTF-16 units, at the last paragraph break, line break, sentence end or
 * space in the second half of the window (so no part is tiny), else hard (never inside a surrogate pair).
 */
export function splitText(text: string, limit = MESSENGER_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = -1;
    // Each break: where it starts, plus what of it stays with the part before (a sentence keeps its full stop).
    for (const [pattern, kept] of BREAKS) {
      for (const match of window.matchAll(pattern)) {
        const at = match.index + kept;
        if (at >= limit / 2 && at <= limit) cut = at;
      }
      if (cut > 0) break;
    }
    if (cut <= 0) {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // keep a surrogate pair together
    }
    const part = rest.slice(0, cut).trimEnd();
    if (part) parts.push(part);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

const BREAKS: [RegExp, number][] = [
  [/\n\s*\n/g, 0],
  [/\n/g, 0],
  [/[.!?…]\s/g, 1],
  [/\s/g, 0],
];

/** Graph error codes worth trying again later: temporary failures and rate limits. */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80006]);
const TEMPORARY_CODES = new Set([1, 2, 1200]);

/** Maps a failed Send API answer to a ProviderError: retryable for 5xx, 429, rate limits and temporary failures. */
export function providerErrorFrom(httpStatus: number, body: unknown): ProviderError {
  const error = graphErrorOf(body);
  const code = error?.code;
  const subcode = error?.error_subcode;
  const detail = error ? `${error.message} (code ${code ?? '?'}${subcode ? `, subcode ${subcode}` : ''}${error.fbtrace_id ? `, fbtrace_id ${error.fbtrace_id}` : ''})` : `HTTP ${httpStatus}`;

  if (code === 10 && subcode === 2018278) {
    return new ProviderError(
      "Not sent: Messenger lets a Page reply only within 24 hours of the person's last message, and that window has passed. The person has to write again first.",
      false,
      'outside_window',
    );
  }
  if (code === 551) return new ProviderError(`Not sent: this person isn't available on Messenger right now (they may have blocked the Page). ${detail}`, false, 'recipient_unavailable');
  if (code === 100 && subcode === 2018001) return new ProviderError(`Not sent: Messenger knows no such person for this Page. ${detail}`, false, 'recipient_not_found');
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) return new ProviderError(`Messenger rate limit reached: ${detail}`, true, 'rate_limited');
  if (code === 190 || code === 102 || code === 104) return new ProviderError(`Messenger refused the Page access token: ${detail}`, false, 'invalid_token');
  if (code === 10 || code === 230 || (code !== undefined && code >= 200 && code < 300) || (code === 1 && subcode === 99)) {
    return new ProviderError(`Messenger refused the send (permission): ${detail}`, false, 'permission_denied');
  }
  if (httpStatus === 429) return new ProviderError(`Messenger rate limit reached: ${detail}`, true, 'rate_limited');
  if (httpStatus >= 500 || (code !== undefined && TEMPORARY_CODES.has(code))) {
    return new ProviderError(`Messenger failed temporarily: ${detail}`, true, 'provider_unavailable');
  }
  if (code === 100) return new ProviderError(`Messenger refused the message as invalid: ${detail}`, false, 'invalid_request');
  return new ProviderError(`Messenger refused the send: ${detail}`, false, 'provider_error');
}

function graphErrorOf(body: unknown): GraphError | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { message, type, code, error_subcode, fbtrace_id } = error as Record<string, unknown>;
  return {
    message: typeof message === 'string' ? message : 'unknown error',
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof code === 'number' ? { code } : {}),
    ...(typeof error_subcode === 'number' ? { error_subcode } : {}),
    ...(typeof fbtrace_id === 'string' ? { fbtrace_id } : {}),
  };
}
