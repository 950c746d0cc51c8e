import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type JobState = 'pending' | 'running' | 'done' | 'failed';

export interface JobsTable {
  id: Generated<string>;
  /** Enqueue order (ties within one transaction included). */
  seq: Generated<string>;
  queue: string;
  /** The job definition's version the payload was written for. */
  version: number;
  payload: ColumnType<unknown, string, string>;
  state: JobState;
  /** Jobs with the same key run one at a time, in the order they were enqueued (e.g. a conversation's deliveries). */
  ordering_key: string | null;
  run_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: number;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  last_error: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  finished_at: NullableTimestamp;
}

export interface JobsTables {
  jobs: JobsTable;
}
