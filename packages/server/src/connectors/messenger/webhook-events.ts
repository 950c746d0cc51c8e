import { z } from 'zod';
import type { InboundItem, InboundMedia, InboundMessage, InboundStatus } from '../channel-connector.ts';

/**
 * Meta's Messenger Platform webhook (`object: "page"`), the fields Parley reads. Each `entry` is one Page; each of its
 * `messaging` events is a message from a person (`sender.id`: their page-scoped id, PSID), an echo of a message the
 * Page sent (`message.is_echo`), a delivery or read receipt (watermarks), or a postback (a button the person tapped).
 * Timestamps and watermarks are milliseconds since the epoch. Unknown fields and events are ignored.
 */
const Attachment = z.looseObject({
  type: z.string(),
  payload: z
    .looseObject({
      url: z.string().optional(),
      title: z.string().optional(),
      sticker_id: z.number().optional(),
      coordinates: z.looseObject({ lat: z.number(), long: z.number() }).optional(),
    })
    .nullish(),
});

const MessagingEvent = z.looseObject({
  sender: z.looseObject({ id: z.string() }).optional(),
  recipient: z.looseObject({ id: z.string() }).optional(),
  timestamp: z.number().optional(),
  message: z
    .looseObject({
      mid: z.string(),
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      quick_reply: z.looseObject({ payload: z.string() }).optional(),
      attachments: z.array(Attachment).optional(),
    })
    .optional(),
  postback: z.looseObject({ mid: z.string().optional(), title: z.string().optional(), payload: z.string().optional() }).optional(),
  delivery: z.looseObject({ mids: z.array(z.string()).optional(), watermark: z.number() }).optional(),
  read: z.looseObject({ watermark: z.number() }).optional(),
});

export const MessengerWebhookSchema = z.looseObject({
  object: z.string(),
  entry: z.array(z.looseObject({ id: z.string(), time: z.number().optional(), messaging: z.array(z.unknown()).optional() })),
});

export type MessengerWebhook = z.infer<typeof MessengerWebhookSchema>;
export type MessengerAttachment = z.infer<typeof Attachment>;

/**
 * The `providerMessageId` of a watermark status: Messenger's read receipts (and its delivery receipts without `mids`)
 * name no message, only a time: every message the Page sent to that person up to `upTo` was read (delivered).
 */
export const MESSENGER_WATERMARK_ID = '*';

/**
 * A receipt for every message sent to `from` up to `upTo`, not for one message. The framework applies it to the
 * consumer's outbound messages on this channel sent at or before `upTo` (see `isWatermarkStatus`).
 */
export interface MessengerWatermarkStatus extends InboundStatus {
  providerMessageId: typeof MESSENGER_WATERMARK_ID;
  status: 'delivered' | 'read';
  /** The person's PSID. */
  from: string;
  /** Meta's watermark: everything the Page sent at or before this time. */
  upTo: Date;
}

export function isWatermarkStatus(item: InboundItem): item is MessengerWatermarkStatus {
  return item.type === 'status' && item.providerMessageId === MESSENGER_WATERMARK_ID && 'upTo' in item && 'from' in item;
}

/** Parses a verified webhook body for one Page: the events for other Pages, echoes and unknown events are skipped. */
export function parseMessengerWebhook(body: MessengerWebhook, pageId: string): InboundItem[] {
  if (body.object !== 'page') return [];
  const items: InboundItem[] = [];
  for (const entry of body.entry) {
    if (entry.id !== pageId) continue;
    for (const raw of entry.messaging ?? []) {
      const parsed = MessagingEvent.safeParse(raw);
      if (!parsed.success) continue;
      items.push(...parseEvent(parsed.data, pageId));
    }
  }
  return items;
}

function parseEvent(event: z.infer<typeof MessagingEvent>, pageId: string): InboundItem[] {
  const psid = event.sender?.id;
  if (!psid || psid === pageId) return []; // the Page's own echoes (sender is the Page)
  if (event.recipient && event.recipient.id !== pageId) return [];
  const at = new Date(event.timestamp ?? Date.now());

  if (event.message) {
    if (event.message.is_echo) return [];
    const message = parseMessage(event.message, psid, at);
    return message ? [message] : [];
  }
  if (event.postback) {
    const { postback } = event;
    const item: InboundMessage = {
      type: 'message',
      // Postbacks carry a mid in current API versions; older ones do not, so one is derived that a redelivery repeats.
      providerMessageId: postback.mid ?? `postback:${psid}:${event.timestamp ?? at.getTime()}`,
      from: psid,
      text: postback.title ?? postback.payload ?? null,
      media: [],
      receivedAt: at,
    };
    if (postback.payload !== undefined) item.quickReplyPayload = postback.payload;
    return [item];
  }
  if (event.delivery) {
    const { mids, watermark } = event.delivery;
    if (mids && mids.length > 0) {
      return mids.map((mid): InboundStatus => ({ type: 'status', providerMessageId: mid, status: 'delivered', at: new Date(watermark) }));
    }
    return [watermarkStatus('delivered', psid, watermark, at)];
  }
  if (event.read) return [watermarkStatus('read', psid, event.read.watermark, at)];
  return [];
}

function watermarkStatus(status: 'delivered' | 'read', psid: string, watermark: number, at: Date): MessengerWatermarkStatus {
  return { type: 'status', providerMessageId: MESSENGER_WATERMARK_ID, status, from: psid, upTo: new Date(watermark), at };
}

function parseMessage(message: NonNullable<z.infer<typeof MessagingEvent>['message']>, psid: string, at: Date): InboundMessage | null {
  const media: InboundMedia[] = [];
  const extraText: string[] = [];
  for (const attachment of message.attachments ?? []) {
    const url = attachment.payload?.url;
    const coordinates = attachment.payload?.coordinates;
    if (attachment.type === 'location' && coordinates) {
      extraText.push(`Location: ${coordinates.lat}, ${coordinates.long}`);
    } else if (attachment.type === 'fallback') {
      // A shared link Messenger could not render: keep it readable as text.
      const parts = [attachment.payload?.title, url].filter((part): part is string => Boolean(part));
      if (parts.length > 0) extraText.push(parts.join(' '));
    } else if (url && MEDIA_TYPES.has(attachment.type)) {
      media.push({ url, contentType: contentTypeOf(attachment.type, url) });
    }
  }
  const texts = [message.text, ...extraText].filter((text): text is string => Boolean(text));
  const text = texts.length > 0 ? texts.join('\n') : null;
  if (text === null && media.length === 0 && !message.quick_reply) return null;
  const item: InboundMessage = { type: 'message', providerMessageId: message.mid, from: psid, text, media, receivedAt: at };
  if (message.quick_reply) item.quickReplyPayload = message.quick_reply.payload;
  return item;
}

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'file', 'sticker']);

const EXTENSIONS: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  pdf: 'application/pdf',
  txt: 'text/plain',
};

/**
 * Messenger tells the kind of file (image, video, audio, file), not its content type: it is guessed from the URL's
 * extension (Meta's CDN URLs usually keep it), else left unknown (null) for the framework to take from the download.
 */
function contentTypeOf(type: string, url: string): string | null {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not an absolute URL: use it as it is
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  const guessed = extension ? EXTENSIONS[extension] : undefined;
  if (guessed && (type === 'file' || guessed.startsWith(`${type === 'sticker' ? 'image' : type}/`))) return guessed;
  return null;
}
