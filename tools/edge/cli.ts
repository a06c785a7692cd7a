// `npm run edge -- [options]`: a Supabase-shaped stack on this machine (docs/edge.md).
import { parseArgs } from 'node:util'
import { parseCount, parseDuration } from '../load/args.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from '../../server/dev-defaults.ts'
import { EDGE_DEFAULTS, startEdgeStack } from './stack.ts'

const seconds = (ms: number) => `${ms / 1000}s`
const USAGE = `usage: npm run edge -- [options]

  --port P            the gateway's port on 127.0.0.1 (default 54321; 0 = a free one)
  --isolates N        Deno isolates per function, chat and embed (default ${EDGE_DEFAULTS.isolates})
  --wall-clock T      an isolate's life: retired at half, beforeunload (wall_clock) before the end,
                      ended at T (default ${seconds(EDGE_DEFAULTS.wallClockMs)}; 0 = unlimited)
  --grace T           beforeunload this long before the wall clock ends; also what a terminated
                      isolate gets for its waitUntil work (default ${seconds(EDGE_DEFAULTS.graceMs)})
  --kill-every T      SIGKILL a random isolate every T (default off)
  --pool-size N       PgBouncer's server connections (default ${EDGE_DEFAULTS.poolSize})
  --memory-mb N       each isolate's heap limit (default ${EDGE_DEFAULTS.memoryMb})
  --max-connections N PostgreSQL's max_connections (default ${EDGE_DEFAULTS.maxConnections})
  --preload FILE      a module every isolate loads before its entry (repeatable), e.g. a probe

Environment: the functions' variables (JWT_SECRET — the development secret by default —,
LLM_PROVIDER, SIM_*, RATE_LIMIT_*…) reach every isolate; OPERATOR_TOKEN is the dashboard's.
`

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '54321' },
    isolates: { type: 'string', default: String(EDGE_DEFAULTS.isolates) },
    'wall-clock': { type: 'string', default: seconds(EDGE_DEFAULTS.wallClockMs) },
    grace: { type: 'string', default: seconds(EDGE_DEFAULTS.graceMs) },
    'kill-every': { type: 'string', default: '0' },
    'pool-size': { type: 'string', default: String(EDGE_DEFAULTS.poolSize) },
    'memory-mb': { type: 'string', default: String(EDGE_DEFAULTS.memoryMb) },
    'max-connections': { type: 'string', default: String(EDGE_DEFAULTS.maxConnections) },
    preload: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

let options
try {
  options = {
    port: parseCount('port', values.port),
    isolates: parseCount('isolates', values.isolates, 1),
    wallClockMs: parseDuration(values['wall-clock']),
    graceMs: parseDuration(values.grace),
    killEveryMs: parseDuration(values['kill-every']),
    poolSize: parseCount('pool-size', values['pool-size'], 1),
    memoryMb: parseCount('memory-mb', values['memory-mb'], 16),
    maxConnections: parseCount('max-connections', values['max-connections'], 10),
    preloads: values.preload,
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}

const env: Record<string, string | undefined> = { LOG_CONSOLE_LEVEL: 'warn', ...process.env }
const log = (line: string) => console.error(`[edge] ${line}`)
const starting = startEdgeStack({
  ...options,
  env,
  log,
  onIsolateOutput: (id, line) => console.error(`[${id}] ${line}`),
})

let stopping = false
/** Stops everything the stack started, also when the signal comes while it is still starting. */
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  log(`${signal}: stopping isolates, PgBouncer, PostgreSQL…`)
  const started = await starting.catch(() => undefined)
  await started?.stop()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

const stack = await starting.catch((err: Error) => {
  log(`did not start: ${err.message}`)
  process.exit(1)
})

if (stopping) await new Promise(() => {}) // shutdown() exits

const shown = (value: string | undefined, dev: string) => value === undefined || value === dev ? `${dev} (development default)` : 'configured (not shown)'
const s = stack.settings
console.log(`
gateway http://127.0.0.1:${new URL(stack.gatewayUrl).port}
database ${stack.directUrl.replace(/^postgres:/, 'postgresql:')}

  functions       POST ${stack.gatewayUrl}/functions/v1/chat, …/embed — ${s.isolates} Deno isolates each, through ${stack.poolerUrl} (PgBouncer, transaction mode, ${s.poolSize} server connections)
  isolates        ${stack.gatewayUrl}/_stack/isolates — wall clock ${s.wallClockMs ? seconds(s.wallClockMs) : 'unlimited'}${s.killEveryMs ? `, one SIGKILLed every ${seconds(s.killEveryMs)}` : ''}
  dashboard       ${stack.gatewayUrl}/
  operator token  ${shown(env.OPERATOR_TOKEN, DEV_OPERATOR_TOKEN)}
  JWT secret      ${shown(env.JWT_SECRET, DEV_JWT_SECRET)}
  load            npm run load -- --url ${stack.gatewayUrl}
`)
