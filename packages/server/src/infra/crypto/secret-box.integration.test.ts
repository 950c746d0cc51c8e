import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/test-database.ts';
import { openDatabase } from '../db/database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { SecretBox } from './secret-box.ts';

describe('SecretBox (credentials encrypted at rest)', () => {
  it('opens what it sealed, and nothing tampered with or moved to another record', async () => {
    const box = await SecretBox.create(undefined as never, 'a configured key of enough length');
    const sealed = box.seal('twilio-auth-token', 'channel-1');
    expect(sealed).not.toContain('twilio-auth-token');
    expect(box.open(sealed, 'channel-1')).toBe('twilio-auth-token');
    expect(() => box.open(sealed, 'channel-2')).toThrow();
    const [v, nonce, body, tag] = sealed.split('.');
    const flipped = `${v}.${nonce}.${body?.slice(0, -2)}${body?.endsWith('A') ? 'B' : 'A'}${body?.slice(-1)}.${tag}`;
    expect(() => box.open(flipped, 'channel-1')).toThrow();
    expect(box.seal('same', 'x')).not.toBe(box.seal('same', 'x'));
  });

  it('another key does not open it', async () => {
    const a = await SecretBox.create(undefined as never, 'key number one, long enough');
    const b = await SecretBox.create(undefined as never, 'key number two, long enough');
    expect(() => b.open(a.seal('secret', 'id'), 'id')).toThrow();
  });

  it('without a configured key, keeps one random key in the database, the same for every node', async () => {
    const storage = await createTestDatabase();
    const database = await openDatabase(storage.options, createLogger({ level: 'silent' }));
    try {
      const first = await SecretBox.create(database.db, undefined);
      const second = await SecretBox.create(database.db, undefined);
      expect(first.keySource).toBe('database');
      expect(second.open(first.seal('token', 'id'), 'id')).toBe('token');
    } finally {
      await database.close();
      await storage.drop();
    }
  });
});
