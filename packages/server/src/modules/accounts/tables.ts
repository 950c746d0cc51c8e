import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { ApiKeyScope, Role, WidgetSettings } from '@parley/protocol';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface StoredConsumerAuth {
  issuer: string;
  audience?: string | undefined;
  jwksUrl?: string | undefined;
  publicKeyPem?: string | undefined;
}

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  widget_key: string;
  consumer_auth: JSONColumnType<StoredConsumerAuth | null, StoredConsumerAuth | null, StoredConsumerAuth | null>;
  /** The widget's settings as an admin saved them; null: the defaults. */
  widget_settings: ColumnType<WidgetSettings | null, WidgetSettings | null | undefined, WidgetSettings | null>;
  created_at: CreatedAt;
}

export interface LinesOfBusinessTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  account_id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  disabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  user_id: string;
  token_hash: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ApiKeysTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: JSONColumnType<ApiKeyScope[]>;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** null: the server's default. */
  rate_limit_per_minute: ColumnType<number | null, number | null | undefined, number | null>;
}

/** The secret a bot presents (`Authorization: Bearer pbt_…`), as a digest. */
export interface BotCredentialsTable {
  user_id: string;
  account_id: string;
  prefix: string;
  secret_hash: string;
  created_at: CreatedAt;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: CreatedAt;
}

export interface AccountsTables {
  accounts: AccountsTable;
  lines_of_business: LinesOfBusinessTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  api_keys: ApiKeysTable;
  server_secrets: ServerSecretsTable;
  bot_credentials: BotCredentialsTable;
}
