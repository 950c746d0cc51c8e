import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWidget, GZIP_BUDGET_BYTES } from '../scripts/build.ts';

describe('widget bundle', () => {
  it('is one IIFE under the gzipped budget, without zod, and reports its sizes', async () => {
    const outfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'parley-widget-')), 'widget.js');
    const lines: string[] = [];
    const result = await buildWidget({ outfile, log: (line) => lines.push(line) });
    expect(result.gzipBytes).toBeLessThan(GZIP_BUDGET_BYTES);
    expect(lines[0]).toMatch(/ kB raw, .* kB gzipped \(budget 50\.0 kB gzipped\)$/);
    const code = fs.readFileSync(outfile, 'utf8');
    expect(code.startsWith('"use strict";(()=>{') || code.startsWith('(()=>{')).toBe(true);
    expect(code).not.toMatch(/ZodError|\$ZodType/);
    // The data the SDK needs comes from the real contract.
    expect(code).toContain('/v1/consumer/sessions');
    expect(code).toContain('/v1/widget/config');
    fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
  });
});
