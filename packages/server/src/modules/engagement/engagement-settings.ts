import type { EngagementSettings } from '@parley/protocol';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';

/** The defaults of an account without an `engagement_settings` row. */
export const ENGAGEMENT_DEFAULTS: EngagementSettings = { csatEnabled: true, csatWindowHours: 24, attributionWindowDays: 7 };

/**
 * The account's CSAT and attribution settings, in the module's own table (one row per account that changed a
 * default), so the close of a conversation reads them in the statement that records the survey.
 */
export class EngagementSettingsService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async get(principal: Principal): Promise<EngagementSettings> {
    return this.forAccount(principal.accountId);
  }

  async forAccount(accountId: string): Promise<EngagementSettings> {
    const row = await this.db.selectFrom('engagement_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    if (!row) return { ...ENGAGEMENT_DEFAULTS };
    return { csatEnabled: row.csat_enabled, csatWindowHours: row.csat_window_hours, attributionWindowDays: row.attribution_window_days };
  }

  async update(principal: Principal, change: Partial<EngagementSettings>): Promise<EngagementSettings> {
    const next = { ...(await this.forAccount(principal.accountId)), ...stripUndefined(change) };
    const values = {
      csat_enabled: next.csatEnabled,
      csat_window_hours: next.csatWindowHours,
      attribution_window_days: next.attributionWindowDays,
      updated_at: this.clock.now(),
    };
    await this.db
      .insertInto('engagement_settings')
      .values({ account_id: principal.accountId, ...values })
      .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
      .execute();
    return next;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
