import type { QuickReplies } from '@parley/protocol';
import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface CannedResponsesTable {
  id: Generated<string>;
  account_id: string;
  /** Null for account-wide responses; the owning user for personal ones. */
  owner_id: string | null;
  shortcut: string;
  title: string;
  text: string;
  quick_replies: ColumnType<QuickReplies | null, string | null, string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface CannedResponsesTables {
  canned_responses: CannedResponsesTable;
}
