import { z } from 'zod';

/**
 * The one catalogue of error codes. Every error Parley returns (REST body or WebSocket response) carries one of
 * these codes, the HTTP status it maps to, and a human message. Codes are stable: clients branch on them.
 */
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, retryable: false, description: 'The request body, query or parameters do not match the schema; `details.issues` names each field.' },
  MALFORMED_JSON: { status: 400, retryable: false, description: 'The body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, description: 'The Content-Type is not accepted by this endpoint.' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, description: 'The body or uploaded file exceeds the configured limit.' },
  FILE_TYPE_NOT_ALLOWED: { status: 415, retryable: false, description: 'The uploaded file type is not in the allowed list.' },
  UNAUTHENTICATED: { status: 401, retryable: false, description: 'No credentials, or credentials that are not valid.' },
  TOKEN_EXPIRED: { status: 401, retryable: false, description: 'The access token has expired; refresh it and retry.' },
  INVALID_CREDENTIALS: { status: 401, retryable: false, description: 'Email or password is wrong.' },
  INVALID_REFRESH_TOKEN: { status: 401, retryable: false, description: 'The refresh token is unknown, revoked, expired or already used.' },
  INVALID_WIDGET_KEY: { status: 401, retryable: false, description: 'The widget key does not belong to any account.' },
  INVALID_CONSUMER_TOKEN: { status: 401, retryable: false, description: "The brand's consumer JWT failed verification." },
  CONSUMER_AUTH_NOT_CONFIGURED: { status: 409, retryable: false, description: 'The account has no key or JWKS registered for authenticated consumers.' },
  FORBIDDEN: { status: 403, retryable: false, description: 'Authenticated, but the role or API key scope does not allow this.' },
  NOT_FOUND: { status: 404, retryable: false, description: 'The resource does not exist in this account.' },
  ROUTE_NOT_FOUND: { status: 404, retryable: false, description: 'No such endpoint.' },
  CONFLICT: { status: 409, retryable: false, description: 'The request conflicts with the current state.' },
  EMAIL_TAKEN: { status: 409, retryable: false, description: 'A user with this email already exists.' },
  CONVERSATION_CLOSED: { status: 409, retryable: false, description: 'The conversation is closed; start a new one.' },
  ALREADY_ASSIGNED: { status: 409, retryable: false, description: 'Another agent already holds this conversation.' },
  AGENT_AT_CAPACITY: { status: 409, retryable: true, description: 'The agent already holds as many conversations as they may.' },
  AGENT_UNAVAILABLE: { status: 409, retryable: false, description: 'The agent is not online, or is disabled.' },
  NOT_OFFERED: { status: 409, retryable: false, description: 'The conversation is not (or no longer) ringing for this agent.' },
  NOT_A_PARTICIPANT: { status: 403, retryable: false, description: 'Only participants of the conversation may do this.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, retryable: false, description: 'The clientMessageId was already used for a different message.' },
  UNKNOWN_FILE: { status: 422, retryable: false, description: 'The referenced file does not exist or belongs to another conversation.' },
  RATE_LIMITED: { status: 429, retryable: true, description: 'Too many requests; retry after `details.retryAfterMs`.' },
  NOT_SUBSCRIBED: { status: 409, retryable: false, description: 'The realtime operation needs a subscription first.' },
  UNSUPPORTED_PROTOCOL_VERSION: { status: 400, retryable: false, description: 'The client asked for a wire protocol version this server does not speak.' },
  CHANNEL_DELIVERY_FAILED: { status: 502, retryable: false, description: "The channel's provider refused the message (`details.providerCode`, `details.retryable`)." },
  INVALID_WEBHOOK_SIGNATURE: { status: 403, retryable: false, description: "A provider webhook whose signature does not verify (or that is not the channel's): nothing was written." },
  SERVICE_UNAVAILABLE: { status: 503, retryable: true, description: 'A dependency (database) is unavailable or the server is shutting down; retry with back-off.' },
  INTERNAL: { status: 500, retryable: true, description: 'An unexpected error; it is logged with the request id.' },
} as const satisfies Record<string, { status: number; retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
export const errorCodes = Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]];
export const ErrorCodeSchema = z.enum(errorCodes);

export const ValidationIssueSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. `content.text`; empty for the whole body.'),
  message: z.string().describe('What is wrong, for people.'),
  code: z.string().describe('The kind of problem, e.g. `invalid_type`, `too_small`, `unrecognized_keys`.'),
});
export type ValidationIssue = z.infer<typeof ValidationIssueSchema>;

export const ErrorBodySchema = z.object({
  error: z.object({
    code: ErrorCodeSchema.describe('The stable error code: clients branch on it.'),
    message: z.string().describe('What went wrong, for people; it may change.'),
    retryable: z.boolean().describe('Whether the same request may succeed later, unchanged.'),
    details: z.record(z.string(), z.unknown()).optional().describe('Depends on the code: `issues` for VALIDATION_FAILED, `retryAfterMs` for RATE_LIMITED.'),
    requestId: z.string().optional().describe('The id the server logged the request under (REST).'),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Turns zod issues into the wire form: one entry per field, with a dotted path. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    const base = issue.path.map(String).join('.');
    // An unknown key is reported on its parent; name the key itself so the client knows which field to drop.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: base ? `${base}.${key}` : key,
        message: `Unknown field "${key}"`,
        code: issue.code,
      }));
    }
    return [{ path: base, message: issue.message, code: issue.code }];
  });
}
