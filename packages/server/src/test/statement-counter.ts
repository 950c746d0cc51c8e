import pg from 'pg';

/**
 * The round trips to the database (both modes go through the `pg` driver) while `work` runs: each is the text the
 * driver sent, one statement or several sent together (`begin;\nexecute "send.lock"(…)`, infra/db/prepared.ts). A
 * connection's first use of a prepared statement held for later prepares it on its own, once: not counted here.
 */
export async function roundTripsOf<T>(work: () => Promise<T>): Promise<{ result: T; roundTrips: string[] }> {
  const roundTrips: string[] = [];
  const original = pg.Client.prototype.query;
  // biome-ignore lint/suspicious/noExplicitAny: a spy over the driver's overloads
  pg.Client.prototype.query = function (this: pg.Client, ...args: any[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : String(first?.text ?? first);
    // The job workers poll on their own timers; they are not part of the work measured.
    if (!/\bjobs\b/.test(text) && !text.startsWith('prepare "')) roundTrips.push(text);
    // biome-ignore lint/suspicious/noExplicitAny: forwards the same arguments
    return (original as any).apply(this, args);
  } as typeof original;
  try {
    return { result: await work(), roundTrips };
  } finally {
    pg.Client.prototype.query = original;
  }
}

/** How many transactions the round trips began (a `begin` goes alone or first among statements sent together). */
export function transactionsIn(roundTrips: readonly string[]): number {
  return roundTrips.filter((text) => text === 'begin' || text.startsWith('begin;')).length;
}
