import { AppError } from '../../core/app-error.ts';

const DEFAULT_PERIOD_MS = 30 * 24 * 3600_000;

/** The period of a list: `to` (exclusive) defaults to none (up to now), `from` to 30 days before `to` or now. */
export function periodOf(query: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date | null } {
  const to = query.to ? new Date(query.to) : null;
  const from = query.from ? new Date(query.from) : new Date((to ?? now).getTime() - DEFAULT_PERIOD_MS);
  if (to && from.getTime() > to.getTime()) throw new AppError('VALIDATION_FAILED', '`from` is after `to`', { issues: [{ path: 'from', message: 'After `to`', code: 'invalid' }] });
  return { from, to };
}

/** An opaque position in a list ordered by a time, then an id (both descending). */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  if (!id || Number.isNaN(at.getTime())) throw new AppError('VALIDATION_FAILED', 'Malformed cursor', { issues: [{ path: 'cursor', message: 'Malformed cursor', code: 'invalid' }] });
  return { at, id };
}
