import { type ErrorBody, errorCatalogue, type ErrorCode } from '@parley/protocol';
import { isAppError } from '../../core/app-error.ts';
import { isConnectionError } from '../../infra/db/pg-errors.ts';

/** Maps any thrown value to the wire error: status, stable code, message. Unknown errors become INTERNAL. */
export function toErrorBody(error: unknown, requestId?: string): { status: number; body: ErrorBody; internal: boolean } {
  const make = (code: ErrorCode, message: string, details?: Record<string, unknown>, internal = false) => ({
    status: errorCatalogue[code].status,
    body: { error: { code, message, retryable: errorCatalogue[code].retryable, ...(details ? { details } : {}), ...(requestId ? { requestId } : {}) } },
    internal,
  });
  if (isAppError(error)) return make(error.code, error.message, error.details);
  if (isConnectionError(error)) return make('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly', undefined, true);
  const fastifyCode = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  switch (fastifyCode) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return make('MALFORMED_JSON', 'The request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
      return make('PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return make('UNSUPPORTED_MEDIA_TYPE', 'The Content-Type is not accepted by this endpoint');
  }
  if (error instanceof SyntaxError) return make('MALFORMED_JSON', 'The request body is not valid JSON');
  return make('INTERNAL', 'An unexpected error occurred', undefined, true);
}
