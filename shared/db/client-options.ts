import type { Options, PostgresType } from 'postgres'

/**
 * What every postgres.js client of the functions and servers shares. postgres.js queues a query
 * that finds no open connection and reconnects with a backoff growing to 20 s by default: during
 * a database outage, requests queued behind a few failed reconnects waited tens of seconds before
 * they failed (measured: 40 queued queries, 56 s). Capped at 0.5 s, a request that needs the
 * database fails fast with 503 database_unavailable (retry-after: 1) and the next one finds the
 * database as soon as it is back.
 */
export const CLIENT_OPTIONS = {
  onnotice: () => {},
  backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 0.5),
} satisfies Options<Record<string, PostgresType>>
