import { describe, expect, it } from 'vitest';
import { isConnectionError, isUniqueViolation } from './pg-errors.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('PostgreSQL error classification', () => {
  it('counts an unreachable or restarting server as a connection error (the client may retry)', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '53300']) expect(isConnectionError(withCode(code)), code).toBe(true);
  });

  it("counts the pg driver's own code-less errors about a lost connection as connection errors", () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'Client has encountered a connection error and is not queryable',
      'timeout exceeded when trying to connect',
    ]) {
      expect(isConnectionError(new Error(message)), message).toBe(true);
    }
  });

  it('does not count query errors or unrelated failures', () => {
    expect(isConnectionError(withCode('23505'))).toBe(false);
    expect(isConnectionError(withCode('42P01', 'Connection terminated'))).toBe(false);
    expect(isConnectionError(new Error('something else'))).toBe(false);
    expect(isConnectionError('Connection terminated')).toBe(false);
    expect(isUniqueViolation(withCode('23505'))).toBe(true);
  });
});
