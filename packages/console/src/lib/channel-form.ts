import type { ChannelConfig, ChannelKind, ChannelSettings, EndpointBody } from '@parley/protocol';

/** One input of a channel's settings or credentials. */
export interface ChannelFieldSpec {
  key: string;
  label: string;
  placeholder?: string;
  hint?: string;
  /** Credentials: a verify token the admin chooses (shown, with a "Generate" helper) rather than a secret pasted in. */
  generated?: boolean;
}

export interface ChannelKindSpec {
  label: string;
  /** What the admin reads when choosing the kind. */
  blurb: string;
  settings: ChannelFieldSpec[];
  credentials: ChannelFieldSpec[];
  /** The label of the "to" field of a test message, and its example. */
  testTo: { label: string; placeholder: string };
}

export const CHANNEL_KINDS: Record<ChannelKind, ChannelKindSpec> = {
  sms: {
    label: 'SMS',
    blurb: "Text messages through a Twilio number (Twilio's Messaging API).",
    settings: [
      { key: 'phoneNumber', label: 'Twilio phone number', placeholder: '+15551234567', hint: 'The number consumers text, in E.164 form.' },
      { key: 'accountSid', label: 'Account SID', placeholder: 'AC…' },
    ],
    credentials: [{ key: 'authToken', label: 'Auth token', hint: 'Signs inbound webhooks and authenticates sends.' }],
    testTo: { label: 'To (phone number)', placeholder: '+15557654321' },
  },
  messenger: {
    label: 'Messenger',
    blurb: "A Facebook Page's conversations (Meta's Messenger Platform).",
    settings: [{ key: 'pageId', label: 'Page id', placeholder: '1234567890', hint: 'The Facebook Page consumers message.' }],
    credentials: [
      { key: 'appSecret', label: 'App secret', hint: 'Signs inbound webhooks (X-Hub-Signature-256).' },
      { key: 'pageAccessToken', label: 'Page access token' },
      { key: 'verifyToken', label: 'Verify token', generated: true, hint: "Type the same token in the app's webhook settings at Meta." },
    ],
    testTo: { label: 'To (page-scoped id)', placeholder: 'The PSID of a person who wrote to the Page' },
  },
  whatsapp: {
    label: 'WhatsApp',
    blurb: 'A WhatsApp Business number (the WhatsApp Cloud API).',
    settings: [
      { key: 'phoneNumberId', label: 'Phone number id', placeholder: '1098765432', hint: "The WhatsApp Business phone number's id at Meta." },
      { key: 'displayPhoneNumber', label: 'Phone number', placeholder: '+15551234567', hint: 'The number consumers write to, in E.164 form.' },
    ],
    credentials: [
      { key: 'appSecret', label: 'App secret', hint: 'Signs inbound webhooks (X-Hub-Signature-256).' },
      { key: 'accessToken', label: 'Access token' },
      { key: 'verifyToken', label: 'Verify token', generated: true, hint: "Type the same token in the app's webhook settings at Meta." },
    ],
    testTo: { label: 'To (phone number)', placeholder: '+15557654321' },
  },
  connector: {
    label: 'Connector API',
    blurb: 'Any other channel, through a partner that speaks the Connector API.',
    settings: [{ key: 'webhookUrl', label: "Partner's endpoint", placeholder: 'https://partner.example/parley', hint: 'Where Parley POSTs outbound messages.' }],
    credentials: [],
    testTo: { label: "To (the consumer's address at the partner)", placeholder: 'user-42' },
  },
};

export const CHANNEL_KIND_ORDER: ChannelKind[] = ['sms', 'messenger', 'whatsapp', 'connector'];

/** What the channel's address is: its number, Page, phone number id or the partner's endpoint. */
export function channelAddress(settings: ChannelSettings): { label: string; value: string } {
  switch (settings.kind) {
    case 'sms':
      return { label: 'Number', value: settings.phoneNumber };
    case 'messenger':
      return { label: 'Page', value: settings.pageId };
    case 'whatsapp':
      return { label: 'Phone', value: `${settings.displayPhoneNumber} (id ${settings.phoneNumberId})` };
    case 'connector':
      return { label: 'Partner', value: settings.webhookUrl };
  }
}

/** The URL to give the provider: the console's own origin (Parley's public URL) and the channel's path. */
export function webhookUrlOf(origin: string, channel: Pick<ChannelConfig, 'inboundWebhookPath'>): string {
  return `${origin.replace(/\/+$/, '')}${channel.inboundWebhookPath}`;
}

export interface ChannelFormState {
  kind: ChannelKind;
  name: string;
  defaultSkillId: string;
  apiBaseUrl: string;
  greeting: string;
  settings: Record<string, string>;
  credentials: Record<string, string>;
}

export function emptyChannelForm(kind: ChannelKind): ChannelFormState {
  return { kind, name: '', defaultSkillId: '', apiBaseUrl: '', greeting: '', settings: {}, credentials: {} };
}

/** The form of an existing channel: its settings, and credentials left empty (they are never returned). */
export function channelFormOf(channel: ChannelConfig): ChannelFormState {
  const { kind: _kind, ...settings } = channel.settings;
  return {
    kind: channel.kind,
    name: channel.name,
    defaultSkillId: channel.defaultSkillId ?? '',
    apiBaseUrl: channel.apiBaseUrl ?? '',
    greeting: channel.greeting ?? '',
    settings: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])),
    credentials: {},
  };
}

/**
 * Whether the credentials fields say "keep the stored ones" (all empty), give a full replacement, or only part of
 * one (the API takes a kind's credentials whole).
 */
export function credentialsState(form: Pick<ChannelFormState, 'kind' | 'credentials'>): 'keep' | 'complete' | 'partial' {
  const keys = CHANNEL_KINDS[form.kind].credentials.map((f) => f.key);
  const typed = keys.filter((k) => (form.credentials[k] ?? '') !== '');
  if (typed.length === 0) return 'keep';
  return typed.length === keys.length ? 'complete' : 'partial';
}

function settingsOf(form: ChannelFormState): ChannelSettings {
  const values = Object.fromEntries(CHANNEL_KINDS[form.kind].settings.map((f) => [f.key, (form.settings[f.key] ?? '').trim()]));
  return { kind: form.kind, ...values } as ChannelSettings;
}

function credentialsOf(form: ChannelFormState): NonNullable<EndpointBody<'createChannel'>>['credentials'] {
  const values = Object.fromEntries(CHANNEL_KINDS[form.kind].credentials.map((f) => [f.key, form.credentials[f.key] ?? '']));
  return { kind: form.kind, ...values } as NonNullable<EndpointBody<'createChannel'>>['credentials'];
}

const orNull = (value: string): string | null => (value.trim() === '' ? null : value.trim());

export function createChannelBody(form: ChannelFormState): NonNullable<EndpointBody<'createChannel'>> {
  return {
    name: form.name.trim(),
    defaultSkillId: orNull(form.defaultSkillId),
    apiBaseUrl: orNull(form.apiBaseUrl),
    greeting: form.kind === 'sms' ? orNull(form.greeting) : null,
    settings: settingsOf(form),
    credentials: credentialsOf(form),
  };
}

/** The change of an existing channel: what differs from it, and the credentials only when typed. */
export function updateChannelBody(channel: ChannelConfig, form: ChannelFormState): NonNullable<EndpointBody<'updateChannel'>> {
  const body: NonNullable<EndpointBody<'updateChannel'>> = {};
  if (form.name.trim() !== channel.name) body.name = form.name.trim();
  if (orNull(form.defaultSkillId) !== channel.defaultSkillId) body.defaultSkillId = orNull(form.defaultSkillId);
  if (orNull(form.apiBaseUrl) !== channel.apiBaseUrl) body.apiBaseUrl = orNull(form.apiBaseUrl);
  if (form.kind === 'sms' && orNull(form.greeting) !== channel.greeting) body.greeting = orNull(form.greeting);
  const settings = settingsOf(form);
  if (JSON.stringify(settings) !== JSON.stringify(settingsOf(channelFormOf(channel)))) body.settings = settings;
  if (credentialsState(form) !== 'keep' && CHANNEL_KINDS[form.kind].credentials.length > 0) body.credentials = credentialsOf(form);
  return body;
}

/** A verify token for Meta's webhook challenge: 24 random bytes, base64url. */
export function generateVerifyToken(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(24));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
