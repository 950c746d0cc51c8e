import type { OutboundMessage } from '../channel-connector.ts';
import { type Interactive, LIMITS, type MediaType, type SendRequest } from './cloud-api.ts';

/**
 * Translates one Parley message into the Cloud API requests that carry it, usually one:
 * - a template when `message.template` is set (the only thing WhatsApp accepts outside the 24-hour window);
 * - quick replies: reply buttons when there are at most 3 with titles of at most 20 characters (and distinct), a list
 *   when at most 10 with titles of at most 24, otherwise the text with numbered options;
 * - a file by link (`image` for JPEG/PNG, `video` for MP4/3GPP, `audio`, else `document`) with the text as caption.
 * Two requests only when the Cloud API cannot carry it in one: a file with quick replies (the file, then the
 * buttons), an audio file with text (audio takes no caption), and a text over 4,096 characters (split).
 */
export function buildSendRequests(to: string, message: OutboundMessage): SendRequest[] {
  const base = { messaging_product: 'whatsapp' as const, recipient_type: 'individual' as const, to };
  if (message.template) {
    const { name, language, parameters } = message.template;
    const template: Extract<SendRequest, { type: 'template' }>['template'] = { name, language: { code: language } };
    if (parameters.length > 0) template.components = [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }];
    return [{ ...base, type: 'template', template }];
  }

  const requests: SendRequest[] = [];
  const text = message.text.trim();
  const hasChoices = message.quickReplies.length > 0;
  if (message.media) {
    const type = mediaType(message.media.contentType);
    // The text rides as the caption unless it goes with the buttons, or the file already has its own caption.
    const caption = message.media.caption ?? (hasChoices ? '' : text);
    const media: { link: string; caption?: string; filename?: string } = { link: message.media.url };
    const captioned = type !== 'audio' && caption.length > 0 && caption.length <= LIMITS.caption;
    if (captioned) media.caption = caption;
    if (type === 'document') media.filename = message.media.fileName;
    requests.push({ ...base, type, [type]: media } as SendRequest);
    if (!hasChoices) {
      if (text && !(captioned && caption === text)) requests.push(...textRequests(base, text));
      return requests;
    }
  }
  if (hasChoices) {
    const interactive = interactiveFor(text, message.quickReplies);
    if (interactive) requests.push({ ...base, type: 'interactive', interactive });
    else requests.push(...textRequests(base, numberedFallback(text, message.quickReplies)));
    return requests;
  }
  requests.push(...textRequests(base, text));
  return requests;
}

/** The Cloud API sends JPEG/PNG as images and MP4/3GPP as videos; anything else goes as a document. */
export function mediaType(contentType: string): MediaType {
  const type = contentType.toLowerCase().split(';')[0]?.trim() ?? '';
  if (type === 'image/jpeg' || type === 'image/png') return 'image';
  if (type === 'video/mp4' || type === 'video/3gpp') return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'document';
}

function textRequests(base: { messaging_product: 'whatsapp'; recipient_type: 'individual'; to: string }, text: string): SendRequest[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += LIMITS.textBody) chunks.push(text.slice(i, i + LIMITS.textBody));
  if (chunks.length === 0) chunks.push(text);
  return chunks.map((body) => ({ ...base, type: 'text', text: { body, preview_url: /https?:\/\//i.test(body) } }));
}

function interactiveFor(text: string, choices: OutboundMessage['quickReplies']): Interactive | null {
  const body = { text: text || 'Please choose:' };
  if (body.text.length > LIMITS.interactiveBody) return null;
  const distinct = (values: string[]) => new Set(values).size === values.length;
  const ids = choices.map((c) => c.payload);
  const titles = choices.map((c) => c.title.trim());
  if (!distinct(ids) || titles.some((t) => t.length === 0)) return null;
  if (choices.length <= LIMITS.buttons && titles.every((t) => t.length <= LIMITS.buttonTitle) && distinct(titles) && ids.every((id) => id.length <= LIMITS.buttonId)) {
    return { type: 'button', body, action: { buttons: choices.map((c, i) => ({ type: 'reply', reply: { id: c.payload, title: titles[i] ?? c.title } })) } };
  }
  if (choices.length <= LIMITS.listRows && titles.every((t) => t.length <= LIMITS.listRowTitle) && ids.every((id) => id.length <= LIMITS.listRowId)) {
    return { type: 'list', body, action: { button: 'Choose', sections: [{ rows: choices.map((c, i) => ({ id: c.payload, title: titles[i] ?? c.title })) }] } };
  }
  return null;
}

/** What a consumer reads when the choices fit neither buttons nor a list: the text and numbered options. */
export function numberedFallback(text: string, choices: OutboundMessage['quickReplies']): string {
  const options = choices.map((c, i) => `${i + 1}. ${c.title}`).join('\n');
  return `${text ? `${text}\n\n` : ''}${options}\n\nReply with the number of your choice.`;
}
