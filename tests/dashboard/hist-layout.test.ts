// The histogram layout is declared once in SQL (telemetry.hist_buckets, hist_growth) and once in
// TypeScript (dashboard/src/lib/hist.ts): the two must give the same buckets and quantiles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { HIST_BOUNDS, HIST_BUCKETS, HIST_GROWTH, histQuantile } from '../../dashboard/src/lib/hist.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db?.drop() })

/** The TypeScript side's 1-based bucket of a value, read off its bounds. */
const bucketOf = (v: number) => HIST_BOUNDS.findIndex((b) => v <= b) + 1

describe('histogram layout, TypeScript against SQL', () => {
  it('has the same bucket count, growth and bounds', async () => {
    const [r] = await db.sql`
      select telemetry.hist_buckets() as buckets, telemetry.hist_growth()::float8 as growth,
             telemetry.hist_bounds()::text[] as bounds`
    expect(r.buckets).toBe(HIST_BUCKETS)
    expect(r.growth).toBe(HIST_GROWTH)
    const bounds = (r.bounds as string[]).map(Number)
    expect(bounds).toHaveLength(HIST_BOUNDS.length)
    expect(bounds.at(-1)).toBe(Infinity)
    // power() and ** may round the last digit differently; a bucket edge is not a value either side stores.
    bounds.forEach((b, i) => expect(Math.abs(b / HIST_BOUNDS[i]! - 1) || 0).toBeLessThan(1e-12))
  })

  it('puts values in the same buckets (inside each bucket and just past each edge)', async () => {
    const values = [0, 0.5, 1, -3, 1e12]
    for (let i = 0; i < HIST_BUCKETS - 1; i++) {
      const hi = HIST_BOUNDS[i]!
      const lo = i === 0 ? 0 : HIST_BOUNDS[i - 1]!
      values.push((lo + hi) / 2, hi * (1 + 1e-9), hi * (1 - 1e-9))
    }
    const [r] = await db.sql`select array(select telemetry.hist_bucket(v) from unnest(${values}::float8[]) with ordinality u(v, n) order by n) as buckets`
    expect(r.buckets).toEqual(values.map(bucketOf))
  })

  it('reads the same quantiles', async () => {
    const hist = Array.from({ length: HIST_BUCKETS }, (_, i) => (i * 7919) % 13)
    hist[HIST_BUCKETS - 1] = 2
    const qs = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1]
    const [r] = await db.sql`select array(select telemetry.hist_quantile(${hist}::int[], q) from unnest(${qs}::float8[]) with ordinality u(q, n) order by n) as qs`
    ;(r.qs as number[]).forEach((q, i) => expect(Math.abs(q / histQuantile(hist, qs[i]!)! - 1)).toBeLessThan(1e-12))
  })
})
