import type { ServerFrame } from '@parley/protocol';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the fields the client relies on for each frame type; anything else passes through as the server sent it. */
const shapeChecks: Record<ServerFrame['type'], (frame: Record<string, unknown>) => boolean> = {
  hello: (f) => typeof f.protocolVersion === 'number',
  response: (f) => typeof f.id === 'string' && typeof f.ok === 'boolean' && (f.ok || isRecord(f.error)),
  event: (f) => isRecord(f.event) && typeof f.event.conversationId === 'string' && typeof f.event.sequence === 'number',
  chat_state: (f) => typeof f.conversationId === 'string' && typeof f.chatState === 'string',
  conversation: (f) => isRecord(f.conversation) && typeof f.conversation.id === 'string',
  agent_state: (f) => isRecord(f.agent) && typeof f.agent.state === 'string',
  offer: (f) => isRecord(f.conversation) && typeof f.conversation.id === 'string' && typeof f.expiresAt === 'string',
  live: (f) => isRecord(f.live) && Array.isArray(f.live.skills) && Array.isArray(f.live.agents),
  notice: (f) => isRecord(f.notice) && typeof f.notice.kind === 'string',
};

function isKnownType(type: unknown): type is ServerFrame['type'] {
  return typeof type === 'string' && Object.hasOwn(shapeChecks, type);
}

/**
 * Parses one text frame from the server. Returns undefined for text that is not JSON or lacks the fields the client
 * needs, and `null` for a frame type this SDK does not know (a newer server): those are ignored, not errors.
 * Deliberately lenient (no full schema validation), so additive server changes do not break deployed clients.
 */
export function parseServerFrame(text: string): ServerFrame | null | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  if (!isKnownType(value.type)) return typeof value.type === 'string' ? null : undefined;
  if (!shapeChecks[value.type](value)) return undefined;
  return value as ServerFrame;
}
