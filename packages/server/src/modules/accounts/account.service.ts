import type { z } from 'zod';
import {
  type AccountSchema,
  type CreateLineOfBusinessRequestSchema,
  DEFAULT_WIDGET_SETTINGS,
  type LineOfBusinessSchema,
  type UpdateAccountRequestSchema,
  type WidgetConfig,
  type WidgetSettings,
} from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import type { Db } from '../../infra/db/database.ts';
import { isUniqueViolation } from '../../infra/db/pg-errors.ts';
import { toAccount, toLineOfBusiness } from './dto.ts';
import { randomToken } from './secrets.ts';
import type { StoredConsumerAuth } from './tables.ts';

type Account = z.infer<typeof AccountSchema>;

/** Accounts (brands) and their lines of business. */
export class AccountService {
  constructor(private readonly db: Db) {}

  async create(name: string): Promise<Account> {
    const row = await this.db
      .insertInto('accounts')
      .values({ name, widget_key: randomToken('pwk', 18), consumer_auth: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAccount(row);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async get(accountId: string): Promise<Account> {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Account not found');
    return toAccount(row);
  }

  /** The first account created (the one a fresh install bootstraps), e.g. for the demo page. */
  async oldest(): Promise<{ id: string; name: string; widgetKey: string } | undefined> {
    const row = await this.db.selectFrom('accounts').select(['id', 'name', 'widget_key']).orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
    return row ? { id: row.id, name: row.name, widgetKey: row.widget_key } : undefined;
  }

  async findByWidgetKey(widgetKey: string): Promise<{ id: string; consumerAuth: StoredConsumerAuth | null } | undefined> {
    const row = await this.db.selectFrom('accounts').select(['id', 'consumer_auth']).where('widget_key', '=', widgetKey).executeTakeFirst();
    return row ? { id: row.id, consumerAuth: row.consumer_auth } : undefined;
  }

  async update(accountId: string, change: z.infer<typeof UpdateAccountRequestSchema>): Promise<Account> {
    const values: { name?: string; consumer_auth?: StoredConsumerAuth | null } = {};
    if (change.name !== undefined) values.name = change.name;
    if (change.consumerAuth !== undefined) values.consumer_auth = change.consumerAuth;
    if (Object.keys(values).length === 0) return this.get(accountId);
    const row = await this.db.updateTable('accounts').set(values).where('id', '=', accountId).returningAll().executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Account not found');
    return toAccount(row);
  }

  /** The widget's settings: what an admin saved, else the defaults. */
  async getWidgetSettings(accountId: string): Promise<WidgetSettings> {
    const row = await this.db.selectFrom('accounts').select('widget_settings').where('id', '=', accountId).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Account not found');
    return withDefaults(row.widget_settings);
  }

  /** Replaces the widget's settings (validated by the contract's schema at the edge). */
  async updateWidgetSettings(accountId: string, settings: WidgetSettings): Promise<WidgetSettings> {
    const row = await this.db.updateTable('accounts').set({ widget_settings: settings }).where('id', '=', accountId).returning('widget_settings').executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Account not found');
    return withDefaults(row.widget_settings);
  }

  /** What the embedded widget loads by the public widget key: public, so nothing secret. */
  async widgetConfig(widgetKey: string): Promise<WidgetConfig> {
    const row = await this.db.selectFrom('accounts').select(['name', 'widget_settings']).where('widget_key', '=', widgetKey).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'No account has this widget key');
    return { accountName: row.name, settings: withDefaults(row.widget_settings) };
  }

  async listLinesOfBusiness(accountId: string): Promise<z.infer<typeof LineOfBusinessSchema>[]> {
    const rows = await this.db.selectFrom('lines_of_business').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
    return rows.map(toLineOfBusiness);
  }

  async createLineOfBusiness(accountId: string, input: z.infer<typeof CreateLineOfBusinessRequestSchema>): Promise<z.infer<typeof LineOfBusinessSchema>> {
    try {
      const row = await this.db.insertInto('lines_of_business').values({ account_id: accountId, name: input.name }).returningAll().executeTakeFirstOrThrow();
      return toLineOfBusiness(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A line of business named "${input.name}" exists already`);
      throw error;
    }
  }

  async lineOfBusinessExists(accountId: string, id: string): Promise<boolean> {
    const row = await this.db.selectFrom('lines_of_business').select('id').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    return Boolean(row);
  }
}

function withDefaults(stored: WidgetSettings | null): WidgetSettings {
  return { ...DEFAULT_WIDGET_SETTINGS, ...stored };
}
