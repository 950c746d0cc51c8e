import { OutboundAddressError, type OutboundFetch } from '../../infra/outbound/outbound-http.ts';

export interface PostResult {
  ok: boolean;
  /** The receiver's HTTP status; null when it gave none (network error, time-out). */
  statusCode: number | null;
  /** Why the attempt failed, for the delivery log; null on success. */
  error: string | null;
  durationMs: number;
}

/**
 * One delivery attempt: POSTs the body with `fetch` (Parley's outbound client, which refuses addresses a tenant may
 * not reach: infra/outbound), within `timeoutMs` (answer included). Redirects are not followed (a 3xx is a failure:
 * the receiver should give its final URL). Success is any 2xx.
 */
export async function postWebhook(fetch: OutboundFetch, request: { url: string; body: string; headers: Record<string, string>; timeoutMs: number }): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      body: request.body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Parley-Webhooks/1', ...request.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel();
      return { ok: true, statusCode: response.status, error: null, durationMs: elapsed() };
    }
    const text = await response.text().catch(() => '');
    const excerpt = text.trim().slice(0, 200);
    return { ok: false, statusCode: response.status, error: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`, durationMs: elapsed() };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    if (error instanceof OutboundAddressError) return { ok: false, statusCode: null, error: error.message, durationMs: elapsed() };
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { ok: false, statusCode: null, error: timedOut ? `No answer within ${request.timeoutMs} ms` : `Could not connect: ${cause}`, durationMs: elapsed() };
  }
}
