import { type ChannelConfig, CreateChannelRequestSchema, UpdateChannelRequestSchema } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { channelAddress, channelFormOf, createChannelBody, credentialsState, emptyChannelForm, generateVerifyToken, updateChannelBody, webhookUrlOf } from './channel-form.ts';

const SKILL = '5f0c7f4e-3a56-4c59-9c55-2a3b8f9a1c11';

const smsChannel: ChannelConfig = {
  id: '0b6f3f69-2b0c-4f5e-a4a3-6d0f3f1b7e21',
  kind: 'sms',
  name: 'Support line',
  enabled: true,
  defaultSkillId: SKILL,
  settings: { kind: 'sms', phoneNumber: '+15551234567', accountSid: 'AC123' },
  apiBaseUrl: 'http://127.0.0.1:4010',
  inboundWebhookPath: '/webhooks/channels/0b6f3f69-2b0c-4f5e-a4a3-6d0f3f1b7e21',
  greeting: 'Thanks for calling!',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

describe('the channel form', () => {
  it('builds a create request the contract accepts, with empty optional fields as null', () => {
    const form = { ...emptyChannelForm('sms'), name: ' Support line ', settings: { phoneNumber: '+15551234567', accountSid: 'AC123' }, credentials: { authToken: 'a-long-token' } };
    const body = createChannelBody(form);
    expect(body).toEqual({
      name: 'Support line',
      defaultSkillId: null,
      apiBaseUrl: null,
      greeting: null,
      settings: { kind: 'sms', phoneNumber: '+15551234567', accountSid: 'AC123' },
      credentials: { kind: 'sms', authToken: 'a-long-token' },
    });
    expect(CreateChannelRequestSchema.safeParse(body).success).toBe(true);
  });

  it('sends a greeting for SMS only', () => {
    const messenger = {
      ...emptyChannelForm('messenger'),
      name: 'Page',
      greeting: 'Hello',
      settings: { pageId: '42' },
      credentials: { appSecret: 'x'.repeat(8), pageAccessToken: 'y'.repeat(8), verifyToken: 'z'.repeat(8) },
    };
    expect(createChannelBody(messenger).greeting).toBeNull();
    expect(CreateChannelRequestSchema.safeParse(createChannelBody(messenger)).success).toBe(true);
    expect(createChannelBody({ ...emptyChannelForm('sms'), greeting: ' We will text you ' }).greeting).toBe('We will text you');
  });

  it('edits an existing channel without its credentials, sending only what changed', () => {
    const form = channelFormOf(smsChannel);
    expect(form.credentials).toEqual({});
    expect(form.settings).toEqual({ phoneNumber: '+15551234567', accountSid: 'AC123' });
    expect(updateChannelBody(smsChannel, form)).toEqual({});
    const renamed = updateChannelBody(smsChannel, { ...form, name: 'Texts', apiBaseUrl: '', defaultSkillId: '' });
    expect(renamed).toEqual({ name: 'Texts', apiBaseUrl: null, defaultSkillId: null });
    expect(UpdateChannelRequestSchema.safeParse(renamed).success).toBe(true);
  });

  it('sends credentials on edit only when typed, and whole', () => {
    const form = channelFormOf(smsChannel);
    expect(credentialsState(form)).toBe('keep');
    const typed = { ...form, credentials: { authToken: 'a-new-token' } };
    expect(credentialsState(typed)).toBe('complete');
    expect(updateChannelBody(smsChannel, typed)).toEqual({ credentials: { kind: 'sms', authToken: 'a-new-token' } });
    expect(credentialsState({ kind: 'whatsapp', credentials: { accessToken: 'new' } })).toBe('partial');
    expect(credentialsState({ kind: 'whatsapp', credentials: { appSecret: 'a', accessToken: 'b', verifyToken: 'c' } })).toBe('complete');
    expect(credentialsState({ kind: 'connector', credentials: {} })).toBe('keep');
  });

  it('sends changed settings whole, with their kind', () => {
    const form = channelFormOf(smsChannel);
    expect(updateChannelBody(smsChannel, { ...form, settings: { ...form.settings, phoneNumber: '+15550000000' } })).toEqual({
      settings: { kind: 'sms', phoneNumber: '+15550000000', accountSid: 'AC123' },
    });
  });

  it('shows the address and the webhook URL to give the provider', () => {
    expect(channelAddress(smsChannel.settings)).toEqual({ label: 'Number', value: '+15551234567' });
    expect(channelAddress({ kind: 'whatsapp', phoneNumberId: '1098', displayPhoneNumber: '+15551112222' }).value).toBe('+15551112222 (id 1098)');
    expect(webhookUrlOf('https://parley.example/', smsChannel)).toBe(`https://parley.example/webhooks/channels/${smsChannel.id}`);
  });

  it('generates verify tokens long enough for the contract, URL-safe', () => {
    const token = generateVerifyToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generateVerifyToken()).not.toBe(token);
  });
});
