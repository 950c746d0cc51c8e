import { randomUUID } from 'node:crypto';
import type { ConversationSummary, EndpointResponse } from '@parley/protocol';

/** A conversation summary as the server returns it. For tests. */
export function conversationSummary(overrides: Partial<ConversationSummary> = {}): ConversationSummary {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    accountId: randomUUID(),
    consumerId: randomUUID(),
    state: 'open',
    channel: 'web',
    device: 'desktop_web',
    lineOfBusinessId: null,
    assignedAgentId: null,
    lastSequence: 0,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    closeReason: null,
    participants: [],
    routing: null,
    ...overrides,
  };
}

/** A token pair whose access token expires in `expiresInMs`. For tests. */
export function tokenPair(accessToken: string, refreshToken: string, expiresInMs: number): EndpointResponse<'login'> {
  return {
    accessToken,
    accessTokenExpiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    refreshToken,
    refreshTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    tokenType: 'Bearer',
  };
}

/** A consumer session whose access token expires in `expiresInMs`. For tests. */
export function consumerSession(accessToken: string, deviceToken: string | null, expiresInMs = 3_600_000): EndpointResponse<'consumerSession'> {
  return {
    consumerId: '00000000-0000-4000-8000-00000000c0de',
    accountId: randomUUID(),
    authenticated: deviceToken === null,
    accessToken,
    accessTokenExpiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    deviceToken,
  };
}
