// Runs the pgTAP suite (tests/sql/*.sql) with pg_prove against a fresh copy of the
// migrated database. pgTAP is created here, by the runner: production migrations
// never install a test framework.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { inject, afterAll, beforeAll, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

const DIR = new URL('.', import.meta.url).pathname
const INSTALL = 'apt-get install -y postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl'

const onPath = (name: string) => (process.env.PATH ?? '').split(delimiter).map((d) => join(d, name)).find((p) => existsSync(p))

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db?.drop() })

async function whyNot(): Promise<string | undefined> {
  if (inject('pgKind') !== 'postgres') return 'no system PostgreSQL here, so no pgTAP'
  if (!onPath('pg_prove')) return `pg_prove is not installed (${INSTALL})`
  const [row] = await db.sql`select 1 from pg_available_extensions where name = 'pgtap'`
  if (!row) return `the pgtap extension is not installed for this PostgreSQL (${INSTALL})`
  return undefined
}

it('the pgTAP suite passes (pg_prove tests/sql/*.sql)', async (ctx) => {
  const missing = await whyNot()
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`the pgTAP RLS suite cannot run: ${missing}`)
    console.warn(`\n[tests/sql] NOTICE: skipping the pgTAP RLS suite: ${missing}\n`)
    ctx.skip()
    return
  }
  await db.sql`create extension if not exists pgtap with schema extensions`
  const files = readdirSync(DIR).filter((f) => f.endsWith('.sql')).sort().map((f) => join(DIR, f))
  expect(files.length).toBeGreaterThan(0)
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile('pg_prove', ['--dbname', db.url, '--verbose', '--failures', ...files], { maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }))
  })
  if (code !== 0 || !/All tests successful/.test(output)) throw new Error(`pg_prove failed (exit ${code}):\n${output}`)
}, 120_000)
