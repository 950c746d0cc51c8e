export { type WebhookHooks, type WebhookOptions, WebhookService } from './webhook.service.ts';
export { SUBSCRIPTION_CACHE_TTL_MS } from './subscription-cache.ts';
export { type PostResult, postWebhook } from './post-webhook.ts';
export { newWebhookSecret, secretPrefix, signatureHeader } from './sign-webhook.ts';
