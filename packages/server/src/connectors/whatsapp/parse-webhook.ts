import type { InboundItem, InboundMedia, InboundMessage, InboundStatus } from '../channel-connector.ts';
import { GRAPH_API_VERSION, type WebhookError, type WebhookMedia, type WebhookMessage, type WebhookPayload, type WebhookStatus, type WebhookValue } from './cloud-api.ts';

/**
 * Turns a verified Cloud API webhook into Parley's inbound items. Changes for another phone number id (one app can
 * serve several numbers, and Meta sends them all to the same callback URL) and fields other than `messages` are
 * skipped, as are reactions and system messages (nothing for a conversation to show).
 *
 * Inbound media carry only an id; each becomes `{apiBaseUrl}/{version}/{media-id}`, which answers with the file's
 * temporary download URL when called with the channel's Bearer token (see `fetchWhatsAppMedia`).
 */
export function parseWebhook(payload: WebhookPayload, phoneNumberId: string, apiBaseUrl: string): InboundItem[] {
  const items: InboundItem[] = [];
  for (const entry of payload.entry ?? []) {
    for (const change of entry.changes ?? []) {
      if (change.field !== 'messages' || !change.value) continue;
      const value = change.value;
      if (value.metadata?.phone_number_id !== phoneNumberId) continue;
      for (const message of value.messages ?? []) {
        const parsed = parseMessage(message, value, apiBaseUrl);
        if (parsed) items.push(parsed);
      }
      for (const status of value.statuses ?? []) {
        const parsed = parseStatus(status);
        if (parsed) items.push(parsed);
      }
    }
  }
  return items;
}

function parseMessage(message: WebhookMessage, value: WebhookValue, apiBaseUrl: string): InboundMessage | null {
  const base = {
    type: 'message' as const,
    providerMessageId: message.id,
    from: message.from,
    receivedAt: fromUnixSeconds(message.timestamp),
    media: [] as InboundMedia[],
    text: null as string | null,
  };
  const profileName = value.contacts?.find((c) => c.wa_id === message.from)?.profile?.name;
  const withName = <T extends object>(m: T): T & { profileName?: string } => (profileName ? { ...m, profileName } : m);
  switch (message.type) {
    case 'text':
      return withName({ ...base, text: message.text?.body ?? '' });
    case 'image':
    case 'document':
    case 'audio':
    case 'video':
    case 'sticker': {
      const media = message[message.type];
      if (!media?.id) return withName({ ...base, text: unsupportedText(message.type) });
      return withName({ ...base, text: media.caption ?? null, media: [inboundMedia(media, apiBaseUrl)] });
    }
    case 'interactive': {
      const interactive = message.interactive;
      const reply = interactive?.type === 'button_reply' ? interactive.button_reply : interactive?.type === 'list_reply' ? interactive.list_reply : undefined;
      if (!reply) return withName({ ...base, text: unsupportedText('interactive') });
      return withName({ ...base, text: reply.title, quickReplyPayload: reply.id });
    }
    case 'button':
      // A quick-reply button of a template message.
      if (!message.button) return withName({ ...base, text: unsupportedText('button') });
      return withName({ ...base, text: message.button.text, quickReplyPayload: message.button.payload });
    case 'location': {
      const l = message.location;
      if (!l) return withName({ ...base, text: unsupportedText('location') });
      const place = [l.name, l.address].filter(Boolean).join(', ');
      return withName({ ...base, text: `📍 ${place ? `${place} ` : ''}https://maps.google.com/?q=${l.latitude},${l.longitude}` });
    }
    case 'contacts': {
      const cards = (message.contacts ?? []).map((c) => [c.name?.formatted_name, ...(c.phones ?? []).map((p) => p.phone)].filter(Boolean).join(' '));
      return withName({ ...base, text: `👤 ${cards.join('; ')}` });
    }
    case 'reaction':
    case 'system':
      return null;
    default:
      return withName({ ...base, text: unsupportedText(message.type, message.errors) });
  }
}

function inboundMedia(media: WebhookMedia, apiBaseUrl: string): InboundMedia {
  const result: InboundMedia = { url: mediaInfoUrl(apiBaseUrl, media.id), contentType: media.mime_type ?? null };
  if (media.caption) result.caption = media.caption;
  return result;
}

export function mediaInfoUrl(apiBaseUrl: string, mediaId: string): string {
  return `${apiBaseUrl.replace(/\/+$/, '')}/${GRAPH_API_VERSION}/${encodeURIComponent(mediaId)}`;
}

function unsupportedText(type: string, errors?: WebhookError[]): string {
  const reason = errors?.[0] ? ` (${errors[0].title})` : '';
  return `[The customer sent a WhatsApp ${type} message that Parley cannot show${reason}]`;
}

function parseStatus(status: WebhookStatus): InboundStatus | null {
  if (status.status !== 'sent' && status.status !== 'delivered' && status.status !== 'read' && status.status !== 'failed') return null;
  const item: InboundStatus = { type: 'status', providerMessageId: status.id, status: status.status, at: fromUnixSeconds(status.timestamp) };
  const error = status.errors?.[0];
  if (error) {
    const details = error.error_data?.details ?? error.message;
    item.error = { code: String(error.code), message: details && details !== error.title ? `${error.title}: ${details}` : error.title };
  } else if (status.status === 'failed') {
    item.error = { code: 'unknown', message: 'WhatsApp reported the message as failed without a reason.' };
  }
  return item;
}

function fromUnixSeconds(timestamp: string | undefined): Date {
  const seconds = Number(timestamp);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
}
