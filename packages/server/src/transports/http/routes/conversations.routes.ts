import { endpoints } from '@parley/protocol';
import { AppError } from '../../../core/app-error.ts';
import type { HttpDeps, RouteRegistrar } from '../http-deps.ts';

export const registerConversationRoutes: RouteRegistrar = (route, { services }: HttpDeps) => {
  const c = services.conversations;
  route(endpoints.startConversation, ({ principal, body }) => c.start(principal, body));
  route(endpoints.listConversations, ({ principal, query }) => c.list(principal, query));
  route(endpoints.getConversation, ({ principal, params }) => c.get(principal, params.conversationId));
  route(endpoints.listEvents, ({ principal, params, query }) => c.listEvents(principal, params.conversationId, query));
  route(endpoints.sendEvent, ({ principal, params, body }) => c.send(principal, params.conversationId, body));
  route(endpoints.sendReceipt, ({ principal, params, body }) => c.receipt(principal, params.conversationId, body));
  route(endpoints.sendChatState, ({ principal, params, body }) => c.chatState(principal, params.conversationId, body.chatState));
  route(endpoints.takeConversation, ({ principal, params }) => c.take(principal, params.conversationId));
  route(endpoints.closeConversation, ({ principal, params }) => c.close(principal, params.conversationId));

  route(endpoints.uploadFile, async ({ principal, params, request }) => {
    if (!request.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Upload the file as multipart/form-data with a field named "file"');
    const part = await request.file();
    if (part?.fieldname !== 'file')
      throw new AppError('VALIDATION_FAILED', 'A multipart field named "file" is required', { issues: [{ path: 'body.file', message: 'Required', code: 'invalid_type' }] });
    return services.files.upload(principal, params.conversationId, { name: part.filename, contentType: part.mimetype, content: part.file });
  });
  route(endpoints.downloadFile, async ({ principal, params, reply }) => {
    const file = await services.files.open(principal, params.id);
    const inline = file.contentType.startsWith('image/') || file.contentType === 'application/pdf';
    reply
      .header('content-type', file.contentType)
      .header('content-length', file.size)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'")
      .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.name)}`);
    return reply.send(file.content);
  });
};
