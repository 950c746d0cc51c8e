/**
 * The WhatsApp Cloud API's formats, as far as Parley uses them: the webhook Meta POSTs (`object:
 * "whatsapp_business_account"`), the body of `POST /{version}/{phone-number-id}/messages`, its answer and its errors.
 * Shared by the connector and the simulator, so both speak the same shapes.
 */

/** The Graph API version the connector calls (and the simulator serves). */
export const GRAPH_API_VERSION = 'v21.0';
export const DEFAULT_API_BASE_URL = 'https://graph.facebook.com';

/** The Cloud API's limits (interactive messages, text), enforced by the simulator and respected by the connector. */
export const LIMITS = {
  textBody: 4096,
  interactiveBody: 1024,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listButton: 20,
  listRows: 10,
  listRowTitle: 24,
  listRowId: 200,
  listRowDescription: 72,
  sectionTitle: 24,
  caption: 1024,
} as const;

/** Meta's error codes Parley tells apart. */
export const ERROR_CODES = {
  /** Re-engagement message: more than 24 hours since the customer last replied. */
  reEngagement: 131047,
  undeliverable: 131026,
  rateLimit: 130429,
  pairRateLimit: 131056,
  spamRateLimit: 131048,
  accessToken: 190,
  invalidParameter: 100,
  templateParams: 132000,
  templateMissing: 132001,
  generic: 131000,
} as const;

// ---- webhook ----

export interface WebhookPayload {
  object: 'whatsapp_business_account';
  entry: WebhookEntry[];
}

export interface WebhookEntry {
  /** The WhatsApp Business Account id. */
  id: string;
  changes: WebhookChange[];
}

export interface WebhookChange {
  field: 'messages' | string;
  value: WebhookValue;
}

export interface WebhookValue {
  messaging_product: 'whatsapp';
  metadata: { display_phone_number: string; phone_number_id: string };
  contacts?: { profile?: { name?: string }; wa_id: string }[];
  messages?: WebhookMessage[];
  statuses?: WebhookStatus[];
  errors?: WebhookError[];
}

export interface WebhookMedia {
  id: string;
  mime_type?: string;
  sha256?: string;
  caption?: string;
  filename?: string;
}

export interface WebhookMessage {
  from: string;
  /** `wamid.…`: redeliveries carry the same one. */
  id: string;
  /** Unix time in seconds, as a string. */
  timestamp: string;
  type: 'text' | 'image' | 'document' | 'audio' | 'video' | 'sticker' | 'interactive' | 'button' | 'location' | 'contacts' | 'reaction' | 'unsupported' | string;
  context?: { from?: string; id?: string };
  text?: { body: string };
  image?: WebhookMedia;
  document?: WebhookMedia;
  audio?: WebhookMedia & { voice?: boolean };
  video?: WebhookMedia;
  sticker?: WebhookMedia & { animated?: boolean };
  interactive?: { type: 'button_reply'; button_reply: { id: string; title: string } } | { type: 'list_reply'; list_reply: { id: string; title: string; description?: string } };
  /** A quick-reply button of a template message. */
  button?: { payload: string; text: string };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contacts?: { name?: { formatted_name?: string }; phones?: { phone?: string }[] }[];
  reaction?: { message_id: string; emoji?: string };
  errors?: WebhookError[];
}

export interface WebhookError {
  code: number;
  title: string;
  message?: string;
  error_data?: { details?: string };
  href?: string;
}

export interface WebhookStatus {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed' | string;
  timestamp: string;
  recipient_id: string;
  conversation?: { id: string; expiration_timestamp?: string; origin: { type: string } };
  pricing?: { billable: boolean; pricing_model: string; category: string };
  errors?: WebhookError[];
}

// ---- sending ----

export type MediaType = 'image' | 'document' | 'audio' | 'video';

export interface MediaObject {
  link?: string;
  id?: string;
  caption?: string;
  filename?: string;
}

export interface ReplyButton {
  type: 'reply';
  reply: { id: string; title: string };
}

export interface ListSection {
  title?: string;
  rows: { id: string; title: string; description?: string }[];
}

export type Interactive =
  | { type: 'button'; header?: unknown; body: { text: string }; footer?: { text: string }; action: { buttons: ReplyButton[] } }
  | { type: 'list'; header?: unknown; body: { text: string }; footer?: { text: string }; action: { button: string; sections: ListSection[] } };

export interface TemplateObject {
  name: string;
  language: { code: string; policy?: 'deterministic' };
  components?: { type: 'header' | 'body' | 'button'; parameters: { type: 'text'; text: string }[]; sub_type?: string; index?: string }[];
}

interface SendBase {
  messaging_product: 'whatsapp';
  recipient_type?: 'individual';
  to: string;
  context?: { message_id: string };
}

export type SendRequest = SendBase &
  (
    | { type: 'text'; text: { body: string; preview_url?: boolean } }
    | { type: 'interactive'; interactive: Interactive }
    | { type: 'template'; template: TemplateObject }
    | { type: 'image'; image: MediaObject }
    | { type: 'document'; document: MediaObject }
    | { type: 'audio'; audio: MediaObject }
    | { type: 'video'; video: MediaObject }
  );

export interface SendResponse {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id: string }[];
  messages: { id: string; message_status?: string }[];
}

export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product?: 'whatsapp'; details?: string };
    fbtrace_id: string;
  };
}

/** The answer of `GET /{version}/{media-id}`: where to download the file (with the same Bearer token). */
export interface MediaInfo {
  messaging_product: 'whatsapp';
  url: string;
  mime_type: string;
  sha256: string;
  file_size: number;
  id: string;
}
