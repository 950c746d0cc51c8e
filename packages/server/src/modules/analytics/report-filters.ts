import { type RawBuilder, sql } from 'kysely';

/** A report's filters as a predicate over the analytics record (and the hourly rollup, which has the same columns). */
export function factFilters(accountId: string, query: { skillId?: string | undefined; agentId?: string | undefined; channel?: string | undefined; device?: string | undefined }): RawBuilder<unknown> {
  return sql.join(
    [
      sql`account_id = ${accountId}`,
      ...(query.skillId ? [sql`skill_id = ${query.skillId}`] : []),
      ...(query.agentId ? [sql`agent_id = ${query.agentId}`] : []),
      ...(query.channel ? [sql`channel = ${query.channel}`] : []),
      ...(query.device ? [sql`device = ${query.device}`] : []),
    ],
    sql` and `,
  );
}
