import { FlowTurnSchema } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call } from '../../../test/rest-client.ts';
import { storageMode } from '../../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../../test/test-server.ts';

/** A small definition: a greeting with one quick reply to an intent that asks for the order number. */
const definition = {
  greeting: { text: 'Hi! How can I help?', choices: [{ title: 'Track my order', intentId: 'track_order' }] },
  intents: [
    {
      id: 'track_order',
      name: 'Track an order',
      phrases: ['where is my order'],
      answer: { text: 'Let me look.' },
      collect: [{ field: 'order_number', prompt: 'Your order number?', pattern: '(\\d{5,8})' }],
      doneText: 'Order {order_number} is on its way.',
    },
  ],
  fallback: { text: 'Sorry?' },
  escalation: { text: 'A person will answer.' },
};

describe(`POST /v1/bots/flow-preview runs one turn of an unsaved flow bot (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;

  beforeAll(async () => {
    t = await startTestServer();
    a = actors(t);
  });
  afterAll(() => t.close());

  it('gives an admin the turn and the state to send with the next one', async () => {
    const admin = await a.adminToken();
    const start = await call(t.server.app, 'previewFlow', { token: admin, body: { definition, input: { type: 'start' } } });
    expect(start.status).toBe(200);
    expect(FlowTurnSchema.parse(start.body).replies).toEqual([{ text: 'Hi! How can I help?', choices: [{ title: 'Track my order', intentId: 'track_order' }] }]);

    const chosen = await call(t.server.app, 'previewFlow', { token: admin, body: { definition, state: start.body.state, input: { type: 'message', text: 'Track my order' } } });
    expect(chosen.status).toBe(200);
    expect(chosen.body.replies.map((r) => r.text)).toEqual(['Let me look.', 'Your order number?']);

    const answered = await call(t.server.app, 'previewFlow', { token: admin, body: { definition, state: chosen.body.state, input: { type: 'message', text: 'it is 123456' } } });
    expect(answered.status).toBe(200);
    expect(answered.body.replies.map((r) => r.text)).toEqual(['Order 123456 is on its way.']);
    expect(answered.body.actions).toEqual([{ type: 'set_fields', fields: { order_number: '123456' } }]);
  });

  it('refuses agents and managers (403) and callers without a token (401)', async () => {
    const admin = await a.adminToken();
    for (const role of ['agent', 'manager'] as const) {
      const user = await a.createUser(admin, role);
      const r = await call(t.server.app, 'previewFlow', { token: user.token, body: { definition, input: { type: 'start' } } });
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('FORBIDDEN');
    }
    const anonymous = await call(t.server.app, 'previewFlow', { body: { definition, input: { type: 'start' } } });
    expect(anonymous.status).toBe(401);
  });

  it('refuses a definition whose quick reply names an unknown intent, with the path of the choice', async () => {
    const admin = await a.adminToken();
    const broken = { ...definition, greeting: { text: 'Hi', choices: [{ title: 'Lost', intentId: 'no_such_intent' }] } };
    const r = await call(t.server.app, 'previewFlow', { token: admin, body: { definition: broken, input: { type: 'start' } } });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('VALIDATION_FAILED');
    expect(r.body.error?.details?.issues).toEqual([expect.objectContaining({ path: 'body.definition.greeting.choices.0.intentId', message: 'No intent "no_such_intent"' })]);
  });

  it('refuses a state that is not a flow state', async () => {
    const admin = await a.adminToken();
    const r = await call(t.server.app, 'previewFlow', { token: admin, body: { definition, state: { fallbacks: -1 }, input: { type: 'message', text: 'hi' } } });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('VALIDATION_FAILED');
  });
});
