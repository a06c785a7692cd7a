// `npm run chaos:proxy -- --target 127.0.0.1:54321 [faults]`: the fault proxy on its own, to put
// in front of any server (then point the load tool or an app at the printed URL).
import { parseArgs } from 'node:util'
import { startFaultProxy, type ByteRange } from './fault-proxy.ts'

const USAGE = `usage: npm run chaos:proxy -- --target HOST:PORT [options]

  --port N                 listen port (default: a free one), always on 127.0.0.1
  --seed N                 every random choice follows it (default 1)
  --latency MS             added to every chunk, both directions
  --bandwidth BYTES/S      per connection, server → client
  --stall P:MS             before a chunk, with probability P, pause MS
  --reset P:MIN-MAX        a share P of connections is reset after MIN–MAX bytes
  --half-open P:MIN-MAX    a share P of connections stops forwarding after MIN–MAX bytes, never closes
`

const { values } = parseArgs({
  options: {
    target: { type: 'string' }, port: { type: 'string', default: '0' }, seed: { type: 'string', default: '1' },
    latency: { type: 'string' }, bandwidth: { type: 'string' }, stall: { type: 'string' },
    reset: { type: 'string' }, 'half-open': { type: 'string' }, help: { type: 'boolean' },
  },
})

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`)
  process.exit(2)
}

function share(flag: string, text: string | undefined): { probability: number; afterBytes: ByteRange } | undefined {
  if (text === undefined) return undefined
  const m = /^(0|1|0?\.\d+):(\d+)-(\d+)$/.exec(text)
  if (!m || Number(m[2]) > Number(m[3])) fail(`--${flag} must look like 0.3:500-8000`)
  return { probability: Number(m[1]), afterBytes: { min: Number(m[2]), max: Number(m[3]) } }
}

if (values.help) { process.stdout.write(USAGE); process.exit(0) }
const target = /^([\w.-]+):(\d+)$/.exec(values.target ?? '')
if (!target) fail('--target HOST:PORT is required')
const stall = values.stall ? /^(0|1|0?\.\d+):(\d+)$/.exec(values.stall) : null
if (values.stall && !stall) fail('--stall must look like 0.01:500')

const proxy = await startFaultProxy({
  target: { host: target[1], port: Number(target[2]) },
  listen: { port: Number(values.port) },
  seed: Number(values.seed),
  latencyMs: values.latency ? Number(values.latency) : undefined,
  bytesPerSecond: values.bandwidth ? Number(values.bandwidth) : undefined,
  stall: stall ? { probability: Number(stall[1]), ms: Number(stall[2]) } : undefined,
  reset: share('reset', values.reset),
  halfOpen: share('half-open', values['half-open']),
})
console.log(`fault proxy ${proxy.url} → ${target[1]}:${target[2]} (Ctrl-C prints its counters and stops)`)
process.on('SIGINT', async () => {
  console.log(JSON.stringify(proxy.stats()))
  await proxy.close()
  process.exit(0)
})
