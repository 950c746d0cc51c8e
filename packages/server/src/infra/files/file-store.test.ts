import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDiskFileStore } from './file-store.ts';

describe('disk file store', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-file-store-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const filesUnder = (dir: string) =>
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);

  it('stores the bytes under the key and reports size, hash and head', async () => {
    const store = createDiskFileStore(root);
    const written = await store.put('a/b', Readable.from([Buffer.from('hello '), Buffer.from('world')]), 100);
    expect(written.size).toBe(11);
    expect(written.sha256).toBe('b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    expect(written.head.toString()).toBe('hello world');
    expect(fs.readFileSync(path.join(root, 'a/b'), 'utf8')).toBe('hello world');
  });

  it('leaves no partial file behind once a too-large upload has been refused, even when it fails at once', async () => {
    const store = createDiskFileStore(root);
    // Like an upload arriving over the network: a first chunk within the limit, the rest a moment later, the
    // request never ending by itself. The store must not answer before its part file is closed and removed.
    const upload = (delayMs: number) => {
      const body = new Readable({ read() {} });
      body.push(Buffer.alloc(60));
      setTimeout(() => body.push(Buffer.alloc(60)), delayMs);
      return body;
    };
    // Under load the thread pool may run the removal before the still pending open (as it did in CI); removing
    // synchronously makes that ordering certain.
    vi.spyOn(fs.promises, 'rm').mockImplementation(async (target, options) => fs.rmSync(target, options));
    for (let i = 0; i < 50; i++) {
      await expect(store.put(`c/${i}`, upload(i % 5), 100)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // Time for any late open to land.
    expect(filesUnder(path.join(root, 'c'))).toEqual([]);
  });

  it('refuses a key that escapes its root', async () => {
    const store = createDiskFileStore(root);
    await expect(store.put('../outside', Readable.from([Buffer.from('x')]), 10)).rejects.toThrow(/escapes/);
  });
});
