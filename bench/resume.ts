// npm run bench:resume — what the frame log (functions/chat/frame-log.ts) costs and what a resume
// on another isolate waits. Two chat handlers in one process stand for two isolates (each its own
// resume buffer) on one private PostgreSQL cluster; telemetry stays in memory, so every statement
// counted is the chat's. Figures against a baseline measured in the same run:
//   - statements per chat and per frame, frame log on vs off (RESUME_RETENTION_SECONDS=0);
//   - the delay a frame read through the log on the other isolate adds over the same frame at the
//     reader of the isolate generating it.
// Not a test: figures only. BENCH_CHATS, BENCH_TOKENS, RESUME_LOG_FLUSH_MS, RESUME_POLL_MS apply.
import postgres from 'postgres'
import { createChatHandler } from '../functions/chat/handler.ts'
import { createChatProvider } from '../functions/providers/select.ts'
import { signUserToken } from '../shared/auth/jwt.ts'
import { readConfig } from '../shared/config.ts'
import { migrate } from '../shared/db/migrate.ts'
import { createTelemetry } from '../shared/telemetry/telemetry.ts'
import { readMigrations } from '../server/migrations.ts'
import { createBlockReader } from '../tests/support/chat-fixture.ts'
import { findPgBin, startCluster } from '../tests/support/pg-cluster.ts'

const SECRET = 'bench-resume-secret-that-is-at-least-32-characters'
const CHATS = Number(process.env.BENCH_CHATS ?? 20)
const TOKENS = Number(process.env.BENCH_TOKENS ?? 200)

const bin = findPgBin()
if (!bin) throw new Error('needs a PostgreSQL server (apt-get install postgresql-15)')
const cluster = await startCluster(bin)
let statements = 0
const sql = postgres(cluster.url, { max: 4, onnotice: () => {}, debug: () => { statements++ } })
try {
  await migrate(sql, await readMigrations())
  const env = (extra: Record<string, string>) => ({
    JWT_SECRET: SECRET, RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_CONSOLE_LEVEL: 'error',
    SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '50', SIM_MIN_TOKENS: String(TOKENS), SIM_MAX_TOKENS: String(TOKENS),
    ...pick('RESUME_LOG_FLUSH_MS', 'RESUME_POLL_MS', 'RESUME_LOG_MAX_FRAMES'), ...extra,
  })
  const isolate = (extra: Record<string, string> = {}) => {
    const config = readConfig(env(extra))
    const telemetry = createTelemetry({ serviceName: 'bench', exporters: [], logLevel: 'error', writeLog: () => {} })
    return createChatHandler({ config, sql, telemetry, provider: createChatProvider(config), broadcast: null })
  }
  const token = await signUserToken(SECRET, crypto.randomUUID())
  const ask = (handler: (r: Request) => Promise<Response>, headers: Record<string, string> = {}) =>
    handler(new Request('http://bench/functions/v1/chat', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'bench' }),
    }))

  const off = await countStatements(() => readAll(ask(isolate({ RESUME_RETENTION_SECONDS: '0' }))))
  const on = await countStatements(() => readAll(ask(isolate())))
  console.log(`statements per chat of ${TOKENS} frames (${CHATS} chats, 50 tokens/s), telemetry not counted`)
  console.log(`  frame log off (baseline)  ${off.toFixed(1)}`)
  console.log(`  frame log on              ${on.toFixed(1)}  (${(on / off).toFixed(2)}x; ${((on - off) / TOKENS).toFixed(3)} per frame)`)

  const a = isolate()
  const b = isolate()
  const added: number[] = []
  let followerStatements = 0
  for (let i = 0; i < Math.min(CHATS, 10); i++) {
    const first = await ask(a)
    const streamId = first.headers.get('x-stream-id')!
    const local = arrivals(first)
    const before = statements
    const resumed = arrivals(await ask(b, { 'x-resume-stream-id': streamId, 'last-event-id': '0' }))
    const [at, bt] = await Promise.all([local, resumed])
    followerStatements += statements - before
    for (const [seq, t] of bt) if (at.has(seq)) added.push(t - at.get(seq)!)
  }
  added.sort((x, y) => x - y)
  const q = (p: number) => added[Math.min(added.length - 1, Math.floor(p * added.length))]!.toFixed(1)
  console.log(`a frame read on another isolate (from its log) vs at the generating isolate's reader (baseline 0 ms), ${added.length} frames`)
  console.log(`  added delay p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`)
  console.log(`  statements while following (both isolates): ${(followerStatements / Math.min(CHATS, 10)).toFixed(1)} per chat`)
} finally {
  await sql.end({ timeout: 1 })
  cluster.destroy()
}

function pick(...keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]))
}

/** Statements per chat over CHATS chats, 5 at a time, including the writes done after the body ended. */
async function countStatements(chat: () => Promise<void>): Promise<number> {
  await new Promise((r) => setTimeout(r, 300))
  const before = statements
  for (let i = 0; i < CHATS; i += 5) await Promise.all(Array.from({ length: Math.min(5, CHATS - i) }, chat))
  await new Promise((r) => setTimeout(r, 500)) // the end of the log and the rate-limit settle
  return (statements - before) / CHATS
}

async function readAll(res: Promise<Response>): Promise<void> {
  await (await res).text()
}

/** When each chat.delta arrived (performance.now()), by seq, until the body ends. */
async function arrivals(res: Response): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  const blocks = createBlockReader(res.body!)
  for (;;) {
    const block = await blocks.next()
    if (block === undefined) return out
    const id = /^id: (\d+)$/m.exec(block)?.[1]
    if (id) out.set(Number(id), performance.now())
  }
}
