import { z } from 'zod';

/** The wire protocol version. REST lives under /v1 and the socket at /v1/ws; a breaking change bumps both. */
export const PROTOCOL_VERSION = 1 as const;

export const Id = z.uuid();
export const IsoDateTime = z.iso.datetime({ offset: true });
export const Sequence = z.number().int().nonnegative();

/** The roles of people who log in. */
export const UserRoleSchema = z.enum(['admin', 'manager', 'agent']);
export type UserRole = z.infer<typeof UserRoleSchema>;
/** Every role a principal may have: a bot is a participant of the account with its own credentials (see bots.ts). */
export const RoleSchema = z.enum(['admin', 'manager', 'agent', 'bot']);
export type Role = z.infer<typeof RoleSchema>;

/**
 * How a participant takes part: `assigned_agent` holds the conversation (a person), `bot` holds it as a bot,
 * `agent`/`manager` joined without holding it, `integration` writes through an API key.
 */
export const ParticipantRoleSchema = z.enum(['consumer', 'assigned_agent', 'agent', 'manager', 'bot', 'integration']);
export type ParticipantRole = z.infer<typeof ParticipantRoleSchema>;

export const ChannelSchema = z.enum(['web', 'in_app', 'sms', 'messenger', 'whatsapp', 'api']);
export type Channel = z.infer<typeof ChannelSchema>;
/** The kind of device a conversation comes from, for the analytics (desktop or mobile web, in-app, or the channel). */
export const DeviceTypeSchema = z.enum(['desktop_web', 'mobile_web', 'in_app', 'sms', 'messenger', 'whatsapp', 'other']);
export type DeviceType = z.infer<typeof DeviceTypeSchema>;

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function paged<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
