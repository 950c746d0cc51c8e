import type { ApiKeyScope, Role } from '@parley/protocol';
import { AppError } from './app-error.ts';

/**
 * Who is calling. Every service method takes a principal (or the account scope derived from it), so a query can never
 * forget which tenant it runs for.
 */
export type Principal =
  | { kind: 'user'; userId: string; accountId: string; role: Role; name: string }
  | { kind: 'consumer'; consumerId: string; accountId: string }
  /** `rateLimitPerMinute`: the key's own limit, null for the server's default (transports enforce it). */
  | { kind: 'api_key'; apiKeyId: string; accountId: string; scopes: readonly ApiKeyScope[]; rateLimitPerMinute?: number | null };

export function principalId(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return principal.userId;
    case 'consumer':
      return principal.consumerId;
    case 'api_key':
      return principal.apiKeyId;
  }
}

export function isSupervisor(principal: Principal): boolean {
  return principal.kind === 'user' && (principal.role === 'admin' || principal.role === 'manager');
}

export function requireUser(principal: Principal): Extract<Principal, { kind: 'user' }> {
  if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'Only agents, managers and admins may do this');
  return principal;
}
