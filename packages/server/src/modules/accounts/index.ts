export { AccountService } from './account.service.ts';
export { ApiKeyService } from './api-key.service.ts';
export { AuthService, type AuthSettings } from './auth.service.ts';
export { BotIdentityService } from './bot-identity.service.ts';
export { type BootstrapResult, bootstrapFirstAccount, createAccountWithAdmin, createAccountWithAdminAtomically } from './bootstrap.ts';
export { type ClientCredentialsOutcome, ClientCredentialsService } from './client-credentials.service.ts';
export type { StoredConsumerAuth } from './tables.ts';
export { TokenSigner } from './token-signer.ts';
export { UserService } from './user.service.ts';
