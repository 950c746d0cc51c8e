/** PostgreSQL error codes the services react to (https://www.postgresql.org/docs/15/errcodes-appendix.html). */
function pgCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}

/** The role lacks a privilege the statement needs (e.g. it does not own the object). */
export function isInsufficientPrivilege(error: unknown): boolean {
  return pgCode(error) === '42501';
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (pgCode(error) !== '23505') return false;
  return constraint === undefined || (error as { constraint?: string }).constraint === constraint;
}

/** Messages of the `pg` driver's own errors (they carry no code) when the server went away or cannot be reached. */
const DRIVER_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
];

/** Errors meaning the database could not be reached or went away: the client may retry. */
export function isConnectionError(error: unknown): boolean {
  const code = pgCode(error);
  if (code === undefined) {
    const message = error instanceof Error ? error.message : '';
    return DRIVER_CONNECTION_MESSAGES.some((m) => message.startsWith(m));
  }
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300'].includes(code);
}
