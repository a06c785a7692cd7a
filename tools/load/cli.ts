// `npm run load -- --url … --streams N --duration 60s …`: see docs/load.md.
import { parseArgs } from 'node:util'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from '../../server/dev-defaults.ts'
import { newRunId, parseCount, parseDuration } from './args.ts'
import { createClientEngine } from './client-engine.ts'
import { toBaseUrl, type ChatEngine } from './engine.ts'
import { pidListeningOn } from './proc.ts'
import { buildPrompt } from './prompt.ts'
import { createRawEngine } from './raw-engine.ts'
import { createProgressPrinter, formatSummary } from './report.ts'
import { runLoad } from './run.ts'

const USAGE = `usage: npm run load -- [options]

  --url URL              project base URL (default http://127.0.0.1:54321)
  --streams N            concurrent clients (default 10)
  --duration T           how long to run, e.g. 60s, 2m (default 60s)
  --ramp T               start the clients evenly over T (default 10s, at most the duration)
  --drain T              after the duration, let open chats finish for up to T (default 0: cut them)
  --prompt-tokens N      prompt size in tokens (default 1000)
  --max-tokens N         send max_tokens in the body (default: the server's limit)
  --token JWT            one token for every client
  --jwt-secret S         sign a token per client (default JWT_SECRET or the local dev secret)
  --run-id X             tag for x-streamscope-run-id (default load-<time>-<random>)
  --engine client|raw    the project's client library (default) or bare node:http
  --server-pid N|auto    sample this server process's CPU and RSS (auto: the pid listening on the URL's port)
  --dashboard-readers N  also poll the dashboard's API (overview, streams, spend, health, a trace) with N
                         readers, one read after another (default 0)
  --operator-token T     the dashboard's bearer token (default OPERATOR_TOKEN or the local dev token)
  --json                 print the summary as JSON on stdout (the table goes to stderr)
`

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:54321' },
    streams: { type: 'string', default: '10' },
    duration: { type: 'string', default: '60s' },
    ramp: { type: 'string', default: '10s' },
    drain: { type: 'string', default: '0s' },
    'prompt-tokens': { type: 'string', default: '1000' },
    'max-tokens': { type: 'string' },
    token: { type: 'string' },
    'jwt-secret': { type: 'string' },
    'run-id': { type: 'string' },
    engine: { type: 'string', default: 'client' },
    'server-pid': { type: 'string' },
    'dashboard-readers': { type: 'string', default: '0' },
    'operator-token': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

let options
try {
  const streams = parseCount('streams', values.streams, 1)
  const durationMs = parseDuration(values.duration)
  options = {
    url: toBaseUrl(new URL(values.url).toString()),
    streams,
    durationMs,
    rampMs: Math.min(parseDuration(values.ramp), durationMs),
    drainMs: parseDuration(values.drain),
    promptTokens: parseCount('prompt-tokens', values['prompt-tokens']),
    maxTokens: values['max-tokens'] ? parseCount('max-tokens', values['max-tokens'], 1) : undefined,
    engine: values.engine,
    dashboardReaders: parseCount('dashboard-readers', values['dashboard-readers']),
  }
  if (values.engine !== 'client' && values.engine !== 'raw') throw new Error('--engine must be client or raw')
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}

const runId = values['run-id'] ?? newRunId()
const secret = values['jwt-secret'] ?? process.env.JWT_SECRET ?? DEV_JWT_SECRET
const ttlS = Math.ceil((options.durationMs + options.drainMs) / 1000) + 600
// One user per client, as real traffic has: per-user limits and history see distinct users.
const tokens = values.token
  ? [values.token]
  : await Promise.all(Array.from({ length: options.streams }, () => signUserToken(secret, crypto.randomUUID(), ttlS)))

let serverPid: number | undefined
if (values['server-pid'] === 'auto') {
  const u = new URL(options.url)
  serverPid = pidListeningOn(Number(u.port || (u.protocol === 'https:' ? 443 : 80)))
  if (!serverPid) process.stderr.write('--server-pid auto: no process of this user listens on that port; not sampling the server\n')
} else if (values['server-pid']) {
  serverPid = Number(values['server-pid'])
}

let raw: ReturnType<typeof createRawEngine> | undefined
let engine: ChatEngine
if (options.engine === 'raw') {
  raw = createRawEngine(options.streams + 16)
  engine = raw.engine
} else {
  engine = createClientEngine()
}

const prompt = buildPrompt(options.promptTokens)
process.stderr.write(`run id ${runId}: ${options.streams} streams × ${options.durationMs / 1000}s against ${options.url} (${options.engine} engine)\n`)
const progress = createProgressPrinter(process.stderr)
const summary = await runLoad({
  url: options.url,
  streams: options.streams,
  durationMs: options.durationMs,
  rampMs: options.rampMs,
  drainMs: options.drainMs,
  prompt,
  maxTokens: options.maxTokens,
  token: (i) => tokens[i % tokens.length],
  runId,
  engine,
  serverPid,
  dashboardReaders: options.dashboardReaders,
  operatorToken: values['operator-token'] ?? process.env.OPERATOR_TOKEN ?? DEV_OPERATOR_TOKEN,
  onProgress: progress.update,
})
progress.end()
raw?.close()

const table = formatSummary(summary)
if (values.json) {
  process.stderr.write(`${table}\n`)
  process.stdout.write(`${JSON.stringify({ ...summary, engine: options.engine, prompt_tokens: options.promptTokens }, null, 2)}\n`)
} else {
  process.stdout.write(`${table}\n`)
}
// Sockets kept alive by fetch's pool would hold the process open for a few seconds.
process.exit(0)
