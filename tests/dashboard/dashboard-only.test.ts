// `npm run dashboard`: the dashboard alone against a database migrated elsewhere (here the test
// database, as a Supabase project's would be), with the operator token; no functions and no local
// sign-in; and in production it refuses the published development credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from '../../server/dev-defaults.ts'
import { runChild } from '../support/child.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const TOKEN = 'dashboard-only-operator-token-of-40-characters'
const ENTRY = { file: 'server/dashboard-only.ts', args: ['--production'], ready: 'streamscope dashboard is up' }
let db: TestDatabase
let server: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({ DATABASE_URL: db.url, OPERATOR_TOKEN: TOKEN, TELEMETRY_RETENTION_DAYS: '9' }, ENTRY)
}, 120_000)
afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

describe('npm run dashboard --production', () => {
  it('serves /api/health to the operator token, and only to it', async () => {
    const health = await fetch(`${server.baseUrl}/api/health`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ windows: expect.any(Array), flag: expect.anything() })
    expect((await fetch(`${server.baseUrl}/api/health`, { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } })).status).toBe(401)
  })

  it('serves no functions and no local sign-in', async () => {
    for (const [path, method] of [['/functions/v1/chat', 'POST'], ['/functions/v1/embed', 'POST'], ['/local-auth/token', 'POST']]) {
      const res = await fetch(`${server.baseUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.c"}' })
      expect(res.status, path).toBe(404)
      expect((await res.json() as { error: { code: string } }).error.code).toBe('not_found')
    }
  })

  it('keeps the retention it was given in telemetry.settings (for the pg_cron job)', async () => {
    const [{ retention_days }] = await db.sql`select retention_days from telemetry.settings`
    expect(retention_days).toBe(9)
  })

  it('refuses to start with the development token or secret, or on a transaction pooler', async () => {
    const start = (env: Record<string, string>, args = ['--production']) => runChild(process.execPath, ['--import', 'tsx', ENTRY.file, ...args], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url, ...env },
    })
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ OPERATOR_TOKEN: DEV_OPERATOR_TOKEN }, ['--production'], /OPERATOR_TOKEN is the published development token/],
      [{ NODE_ENV: 'production', OPERATOR_TOKEN: TOKEN, JWT_SECRET: DEV_JWT_SECRET }, [], /JWT_SECRET is the published development secret/],
      [{ OPERATOR_TOKEN: TOKEN, DATABASE_URL: 'postgresql://postgres.ref:pw@pooler.example.test:6543/postgres' }, [], /transaction pooler \(port 6543\)/],
    ]
    for (const [env, args, refusal] of cases) {
      const r = await start(env, args)
      expect(r.status, JSON.stringify(env)).toBe(1)
      expect(r.stderr).toMatch(refusal)
    }
  })
})
