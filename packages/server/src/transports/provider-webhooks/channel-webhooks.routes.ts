import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpDeps } from '../http/http-deps.ts';

/**
 * Provider webhooks of channels: `GET|POST /webhooks/channels/:channelId` (Twilio, Meta's verification challenge and
 * events, Connector API partners). Registered in its own scope, where every body is kept as the exact string received,
 * because providers sign those bytes; the channel's connector verifies and parses it.
 */
export async function registerChannelWebhookRoutes(app: FastifyInstance, deps: HttpDeps, options: { publicUrl: string | undefined }): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    const handle = async (request: FastifyRequest<{ Params: { channelId: string } }>) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
      const query: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) query[name] = typeof value === 'string' ? value : undefined;
      return deps.services.channelDelivery.receive(request.params.channelId, {
        method: request.method === 'GET' ? 'GET' : 'POST',
        url: signedUrl(request, options.publicUrl),
        headers,
        query,
        rawBody: typeof request.body === 'string' ? request.body : '',
      });
    };

    scope.get<{ Params: { channelId: string } }>('/webhooks/channels/:channelId', async (request, reply) => {
      const answer = await handle(request);
      return reply.code(answer.status).type(answer.contentType).send(answer.body);
    });
    scope.post<{ Params: { channelId: string } }>('/webhooks/channels/:channelId', async (request, reply) => {
      const answer = await handle(request);
      return reply.code(answer.status).type(answer.contentType).send(answer.body);
    });

    // Files Parley sends through channels, fetched by the providers with a signed link.
    scope.get<{ Params: { accountId: string; fileId: string }; Querystring: { expires?: string; signature?: string } }>('/media/:accountId/:fileId', async (request, reply) => {
      const file = await deps.services.mediaLinks.open(request.params.accountId, request.params.fileId, Number(request.query.expires), request.query.signature ?? '');
      return reply
        .type(file.contentType)
        .header('content-length', String(file.size))
        .header('content-disposition', `inline; filename="${file.name}"`)
        .header('cache-control', 'private, max-age=3600')
        .send(file.content);
    });
  });
}

/** The URL the provider called, as it signed it: behind a proxy, PUBLIC_URL (or the forwarded scheme and host). */
function signedUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return `${publicUrl.replace(/\/+$/, '')}${request.url}`;
  return `${request.protocol}://${request.host}${request.url}`;
}
