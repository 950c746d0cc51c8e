import pg from 'pg';

/** Counts the statements sent to the database (both modes go through the `pg` driver) while `work` runs. */
export async function statementsOf<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const original = pg.Client.prototype.query;
  // biome-ignore lint/suspicious/noExplicitAny: a spy over the driver's overloads
  pg.Client.prototype.query = function (this: pg.Client, ...args: any[]) {
    const first = args[0];
    const statement = typeof first === 'string' ? first : String(first?.text ?? first);
    // The job workers poll on their own timers; they are not part of the work measured.
    if (!/\bjobs\b/.test(statement)) statements.push(statement);
    // biome-ignore lint/suspicious/noExplicitAny: forwards the same arguments
    return (original as any).apply(this, args);
  } as typeof original;
  try {
    return { result: await work(), statements };
  } finally {
    pg.Client.prototype.query = original;
  }
}
