import { describe, expect, it } from 'vitest';
import { newClientMessageId } from './ids.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('client message ids', () => {
  it('are random v4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newClientMessageId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });

  it('still come out where crypto.randomUUID is missing (plain http on a LAN address)', () => {
    const insecure = { getRandomValues: <T extends ArrayBufferView | null>(array: T) => globalThis.crypto.getRandomValues(array as Uint8Array) as unknown as T };
    const ids = Array.from({ length: 200 }, () => newClientMessageId(insecure));
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });
});
