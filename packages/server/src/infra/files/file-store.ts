import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { AppError } from '../../core/app-error.ts';

/** Where uploaded file bytes live. The disk store serves the embedded mode (and a shared volume in a cluster). */
export interface FileStore {
  put(key: string, content: Readable, maxBytes: number): Promise<{ size: number; sha256: string; head: Buffer }>;
  open(key: string): Readable;
  remove(key: string): Promise<void>;
}

export function createDiskFileStore(root: string): FileStore {
  const resolve = (key: string) => {
    const full = path.resolve(root, key);
    if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`File key escapes the store: ${key}`);
    return full;
  };
  return {
    async put(key, content, maxBytes) {
      const target = resolve(key);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      const temp = `${target}.${randomUUID()}.part`;
      const hash = createHash('sha256');
      let size = 0;
      const headChunks: Buffer[] = [];
      let headLength = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, callback) {
          size += chunk.length;
          if (size > maxBytes) {
            callback(new AppError('PAYLOAD_TOO_LARGE', `The file exceeds the limit of ${maxBytes} bytes`, { maxBytes }));
            return;
          }
          if (headLength < 16) {
            headChunks.push(chunk.subarray(0, 16 - headLength));
            headLength += Math.min(chunk.length, 16 - headLength);
          }
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      const out = fs.createWriteStream(temp, { flags: 'wx' });
      try {
        await pipeline(content, meter, out);
        await fs.promises.rename(temp, target);
      } catch (error) {
        // The pipeline rejects as soon as the meter fails, possibly before the write stream has even opened its
        // file: wait for it to close, or the open would create the part file again after we removed it.
        if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
        await fs.promises.rm(temp, { force: true });
        content.resume(); // Drain the rest of the upload so the request can finish with an error response.
        throw error;
      }
      return { size, sha256: hash.digest('hex'), head: Buffer.concat(headChunks) };
    },
    open(key) {
      return fs.createReadStream(resolve(key));
    },
    async remove(key) {
      await fs.promises.rm(resolve(key), { force: true });
    },
  };
}

/**
 * Checks that the first bytes agree with the declared type for the formats that have a signature, so an
 * executable cannot be uploaded as "image/png".
 */
export function contentMatchesType(head: Buffer, contentType: string): boolean {
  const startsWith = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  switch (contentType) {
    case 'image/png':
      return startsWith(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return startsWith(0xff, 0xd8, 0xff);
    case 'image/gif':
      return head.subarray(0, 6).toString('latin1') === 'GIF87a' || head.subarray(0, 6).toString('latin1') === 'GIF89a';
    case 'image/webp':
      return head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP';
    case 'application/pdf':
      return head.subarray(0, 5).toString('latin1') === '%PDF-';
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
      return startsWith(0x50, 0x4b, 0x03, 0x04);
    default:
      return true;
  }
}
