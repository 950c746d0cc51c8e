import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FileRecordSchema } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';

const MAX_UPLOAD_BYTES = 2048;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG signature followed by `extra` bytes: enough for the server's content sniffing. */
function png(extra = 24): Buffer {
  return Buffer.concat([Buffer.from(PNG_SIGNATURE), Buffer.from(Array.from({ length: extra }, (_, i) => (i * 7) % 256))]);
}
/** The start of a Windows executable ("MZ" header). */
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62, 0x90)]);

const fileHash = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe(`file uploads and downloads (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer({ env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) } });
    a = actors(t);
    admin = await a.adminToken();
  });
  afterAll(() => t.close());

  /** Uploads one file as multipart/form-data, the way a browser would. */
  async function upload(token: string, conversationId: string, file: { name: string; type: string; bytes: Buffer }, field = 'file') {
    const form = new FormData();
    form.append(field, new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
    const request = new Response(form);
    const payload = Buffer.from(await request.arrayBuffer());
    const response = await t.server.app.inject({
      method: 'POST',
      url: `/v1/conversations/${conversationId}/files`,
      headers: { authorization: `Bearer ${token}`, 'content-type': request.headers.get('content-type') ?? '' },
      payload,
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> & { error?: { code: string; message: string } } };
  }

  async function download(token: string, fileId: string) {
    const response = await t.server.app.inject({ method: 'GET', url: `/v1/files/${fileId}`, headers: { authorization: `Bearer ${token}` } });
    return { status: response.statusCode, bytes: response.rawPayload, headers: response.headers };
  }

  /** Every regular file under FILES_DIR, temporary `.part` files included. */
  function storedFiles(): string[] {
    const root = t.config.storage.filesDir;
    if (!fs.existsSync(root)) return [];
    return fs
      .readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name));
  }

  async function fileRows(conversationId: string) {
    return t.server.database.db.selectFrom('files').select(['id', 'name', 'size']).where('conversation_id', '=', conversationId).execute();
  }

  /** A consumer with an open conversation held by an agent. */
  async function scene() {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    const agent = await a.createUser(admin, 'agent');
    const taken = await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
    expect(taken.status).toBe(200);
    return { consumer, agent, conversationId };
  }

  it('accepts a PNG, sends it as a hosted/file event, and serves the same bytes to the consumer and the assigned agent', async () => {
    const { consumer, agent, conversationId } = await scene();
    const bytes = png();
    const uploaded = await upload(consumer.token, conversationId, { name: 'receipt.png', type: 'image/png', bytes });
    expect(uploaded.status).toBe(201);
    const record = FileRecordSchema.parse(uploaded.body);
    expect(record).toMatchObject({ conversationId, name: 'receipt.png', contentType: 'image/png', size: bytes.length, sha256: fileHash(bytes) });

    const sent = await call(t.server.app, 'sendEvent', {
      token: consumer.token,
      params: { conversationId },
      body: { clientMessageId: 'file-1', event: { type: 'content', content: { contentType: 'hosted/file', fileId: record.id, caption: 'my receipt' } } },
    });
    expect(sent.status).toBe(201);
    const events = await call(t.server.app, 'listEvents', { token: agent.token, params: { conversationId }, query: { fromSeq: sent.body.sequence } });
    expect(events.body.items[0]).toMatchObject({
      type: 'content',
      originator: { role: 'consumer' },
      content: { contentType: 'hosted/file', file: { fileId: record.id, name: 'receipt.png', contentType: 'image/png', size: bytes.length, caption: 'my receipt' } },
    });

    for (const token of [consumer.token, agent.token]) {
      const got = await download(token, record.id);
      expect(got.status).toBe(200);
      expect(got.headers['content-type']).toBe('image/png');
      expect(Number(got.headers['content-length'])).toBe(bytes.length);
      expect(got.headers['x-content-type-options']).toBe('nosniff');
      expect(got.headers['content-disposition']).toBe("inline; filename*=UTF-8''receipt.png");
      expect(Buffer.compare(got.bytes, bytes)).toBe(0);
    }
  });

  it('lets the agent send a file the consumer can download as an attachment', async () => {
    const { consumer, agent, conversationId } = await scene();
    const bytes = Buffer.from('order,total\n1234,89.00\n');
    const uploaded = await upload(agent.token, conversationId, { name: 'invoice.csv', type: 'text/csv', bytes });
    expect(uploaded.status).toBe(201);
    const sent = await call(t.server.app, 'sendEvent', {
      token: agent.token,
      params: { conversationId },
      body: { clientMessageId: 'agent-file', event: { type: 'content', content: { contentType: 'hosted/file', fileId: String(uploaded.body.id) } } },
    });
    expect(sent.status).toBe(201);
    const got = await download(consumer.token, String(uploaded.body.id));
    expect(got.status).toBe(200);
    expect(got.headers['content-disposition']).toBe("attachment; filename*=UTF-8''invoice.csv");
    expect(got.bytes.toString('utf8')).toBe('order,total\n1234,89.00\n');
  });

  it('answers NOT_FOUND to another consumer, an agent of another conversation and a random id', async () => {
    const { consumer, conversationId } = await scene();
    const uploaded = await upload(consumer.token, conversationId, { name: 'private.png', type: 'image/png', bytes: png() });
    const fileId = String(uploaded.body.id);
    const stranger = await a.consumer();
    const otherAgent = await a.createUser(admin, 'agent', 'other-agent');

    for (const token of [stranger.token, otherAgent.token]) {
      const got = await download(token, fileId);
      expect(got.status).toBe(404);
      expect(JSON.parse(got.bytes.toString('utf8'))).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    const missing = await download(consumer.token, crypto.randomUUID());
    expect(missing.status).toBe(404);
    // Nor may the stranger upload into the conversation.
    const intrude = await upload(stranger.token, conversationId, { name: 'x.png', type: 'image/png', bytes: png() });
    expect(intrude.status).toBe(404);
    expect(intrude.body.error?.code).toBe('NOT_FOUND');
    expect(await fileRows(conversationId)).toHaveLength(1);
  });

  it(`refuses a file over MAX_UPLOAD_BYTES with PAYLOAD_TOO_LARGE, keeping no row and no bytes`, async () => {
    const { consumer, conversationId } = await scene();
    const before = storedFiles();
    const r = await upload(consumer.token, conversationId, { name: 'huge.png', type: 'image/png', bytes: png(MAX_UPLOAD_BYTES * 2) });
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await fileRows(conversationId)).toEqual([]);
    expect(storedFiles()).toEqual(before);
  });

  it('refuses a file one byte over the limit, and accepts one exactly at it', async () => {
    const { consumer, conversationId } = await scene();
    const before = storedFiles();
    const over = await upload(consumer.token, conversationId, { name: 'over.png', type: 'image/png', bytes: png(MAX_UPLOAD_BYTES - PNG_SIGNATURE.length + 1) });
    expect(over.status).toBe(413);
    expect(over.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await fileRows(conversationId)).toEqual([]);
    expect(storedFiles()).toEqual(before);

    const exact = png(MAX_UPLOAD_BYTES - PNG_SIGNATURE.length);
    const atLimit = await upload(consumer.token, conversationId, { name: 'exact.png', type: 'image/png', bytes: exact });
    expect(atLimit.status).toBe(201);
    expect(atLimit.body.size).toBe(MAX_UPLOAD_BYTES);
    expect(storedFiles()).toHaveLength(before.length + 1);
  });

  it('refuses a type outside the allowed list with FILE_TYPE_NOT_ALLOWED', async () => {
    const { consumer, conversationId } = await scene();
    const before = storedFiles();
    const r = await upload(consumer.token, conversationId, { name: 'setup.exe', type: 'application/x-msdownload', bytes: EXE });
    expect(r.status).toBe(415);
    expect(r.body.error?.code).toBe('FILE_TYPE_NOT_ALLOWED');
    expect(await fileRows(conversationId)).toEqual([]);
    expect(storedFiles()).toEqual(before);
  });

  it('refuses an executable declared as image/png with FILE_TYPE_NOT_ALLOWED, and removes its bytes', async () => {
    const { consumer, conversationId } = await scene();
    const before = storedFiles();
    const r = await upload(consumer.token, conversationId, { name: 'cute-cat.png', type: 'image/png', bytes: EXE });
    expect(r.status).toBe(415);
    expect(r.body.error?.code).toBe('FILE_TYPE_NOT_ALLOWED');
    expect(await fileRows(conversationId)).toEqual([]);
    expect(storedFiles()).toEqual(before);
  });

  it('keeps only the last segment of a file name that tries to climb directories', async () => {
    const { consumer, conversationId } = await scene();
    const r = await upload(consumer.token, conversationId, { name: '../../../etc/passwd.png', type: 'image/png', bytes: png() });
    expect(r.status).toBe(201);
    expect(r.body.name).toBe('passwd.png');
    const root = path.resolve(t.config.storage.filesDir);
    for (const file of storedFiles()) expect(path.resolve(file).startsWith(root + path.sep)).toBe(true);
  });

  it('refuses an upload without a `file` field, or not sent as multipart', async () => {
    const { consumer, conversationId } = await scene();
    const wrongField = await upload(consumer.token, conversationId, { name: 'a.png', type: 'image/png', bytes: png() }, 'attachment');
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error?.code).toBe('VALIDATION_FAILED');
    const json = await t.server.app.inject({
      method: 'POST',
      url: `/v1/conversations/${conversationId}/files`,
      headers: { authorization: `Bearer ${consumer.token}`, 'content-type': 'application/json' },
      payload: '{"file":"iVBORw0KGgo="}',
    });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(await fileRows(conversationId)).toEqual([]);
  });

  it('refuses uploads to a closed conversation with CONVERSATION_CLOSED', async () => {
    const { consumer, conversationId } = await scene();
    await call(t.server.app, 'closeConversation', { token: consumer.token, params: { conversationId } });
    const before = storedFiles();
    const r = await upload(consumer.token, conversationId, { name: 'late.png', type: 'image/png', bytes: png() });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('CONVERSATION_CLOSED');
    expect(storedFiles()).toEqual(before);
  });

  it('refuses a hosted/file event naming an unknown file, or a file of another conversation, with UNKNOWN_FILE', async () => {
    const { consumer, conversationId } = await scene();
    const other = await scene();
    const elsewhere = await upload(other.consumer.token, other.conversationId, { name: 'theirs.png', type: 'image/png', bytes: png() });
    expect(elsewhere.status).toBe(201);
    const before = await call(t.server.app, 'getConversation', { token: consumer.token, params: { conversationId } });

    for (const fileId of [crypto.randomUUID(), String(elsewhere.body.id)]) {
      const r = await call(t.server.app, 'sendEvent', {
        token: consumer.token,
        params: { conversationId },
        body: { clientMessageId: `f-${fileId}`, event: { type: 'content', content: { contentType: 'hosted/file', fileId } } },
      });
      expect(r.status).toBe(422);
      expect(r.body.error?.code).toBe('UNKNOWN_FILE');
    }
    const after = await call(t.server.app, 'getConversation', { token: consumer.token, params: { conversationId } });
    expect(after.body.lastSequence).toBe(before.body.lastSequence);
  });
});
