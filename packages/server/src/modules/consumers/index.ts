export { BrandTokenVerifier } from './brand-token-verifier.ts';
export { ConsumerService } from './consumer.service.ts';
