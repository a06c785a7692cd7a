// A TCP proxy that makes the network bad on purpose, reproducibly: every random choice comes from
// the run's seed. It sits between the load tool and the server and knows nothing of HTTP.
//
// Latency applies to both directions. The other faults apply to the server → client direction,
// where a stream's bytes flow:
//   - bandwidth: at most `bytesPerSecond` per connection;
//   - stalls: before a chunk, with probability `stall.probability`, forwarding pauses `stall.ms`;
//   - resets: a chosen share of connections gets a TCP RST (socket.resetAndDestroy) once
//     `afterBytes` (uniform in [min, max]) bytes have gone through; the server's side is closed;
//   - half-open: a chosen share of connections stops forwarding after `afterBytes` and never
//     closes: both sides see a live socket that carries nothing, until the proxy is closed.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { createRandom } from '../../shared/random.ts'

export interface ByteRange { min: number; max: number }

export interface FaultOptions {
  target: { host: string; port: number }
  /** Default 127.0.0.1, a free port. */
  listen?: { host?: string; port?: number }
  seed?: number
  /** Added to every chunk, both directions. */
  latencyMs?: number
  /** Per connection, server → client. */
  bytesPerSecond?: number
  stall?: { probability: number; ms: number }
  reset?: { probability: number; afterBytes: ByteRange }
  halfOpen?: { probability: number; afterBytes: ByteRange }
}

export interface FaultStats {
  connections: number
  open: number
  resets: number
  halfOpen: number
  stalls: number
  bytesDown: number
  bytesUp: number
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41234 */
  url: string
  port: number
  stats(): FaultStats
  /** Changes the faults for connections opened from now on (scenarios switch them mid-run). */
  configure(faults: Omit<FaultOptions, 'target' | 'listen'>): void
  close(): Promise<void>
}

const pick = (random: () => number, r: ByteRange) => r.min + Math.floor(random() * (r.max - r.min + 1))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** What happens to one connection's server → client bytes, decided when it opens. */
interface Plan { resetAt: number; halfOpenAt: number }

// Bandwidth is paced in slices so a 64 KiB chunk at 1 KiB/s does not arrive as one burst a minute later.
const SLICE_MS = 50
const RESET_DELAY_MS = 10

export async function startFaultProxy(options: FaultOptions): Promise<FaultProxy> {
  let faults: Omit<FaultOptions, 'target' | 'listen'> = { ...options }
  const stats: FaultStats = { connections: 0, open: 0, resets: 0, halfOpen: 0, stalls: 0, bytesDown: 0, bytesUp: 0 }
  const sockets = new Set<Socket>()
  let closing = false

  const server: Server = createServer((client) => {
    const index = stats.connections++
    stats.open++
    // One generator per connection, seeded by its index: connection k gets the same plan in every run.
    const random = createRandom((faults.seed ?? 1) * 0x9e3779b1 + index)
    const f = faults
    const plan: Plan = {
      resetAt: f.reset && random() < f.reset.probability ? pick(random, f.reset.afterBytes) : Infinity,
      halfOpenAt: f.halfOpen && random() < f.halfOpen.probability ? pick(random, f.halfOpen.afterBytes) : Infinity,
    }
    const upstream = connect(options.target.port, options.target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.setNoDelay(true)
      s.on('close', () => sockets.delete(s))
    }
    let done = false
    const end = () => {
      if (done) return
      done = true
      stats.open--
    }
    client.on('close', end)
    // The client is gone: the server must see it too (a half-closed socket would keep it streaming).
    client.on('close', () => upstream.destroy())
    let frozen = false
    const fail = () => { if (!frozen) { client.destroy(); upstream.destroy() } }
    client.on('error', fail)
    upstream.on('error', fail)

    pipe(client, upstream, { latencyMs: f.latencyMs ?? 0 }, (n) => { stats.bytesUp += n })
    pipe(upstream, client, {
      latencyMs: f.latencyMs ?? 0,
      bytesPerSecond: f.bytesPerSecond,
      stall: f.stall,
      random,
      limit: Math.min(plan.resetAt, plan.halfOpenAt),
      onStall: () => { stats.stalls++ },
      onLimit: () => {
        if (plan.resetAt <= plan.halfOpenAt) {
          stats.resets++
          upstream.destroy()
          // Once the last bytes are on the wire: an RST sent in the same tick as a write was seen
          // as a FIN on loopback (Node 20), and a real reset comes after the data anyway.
          client.write('', () => setTimeout(() => { if (!client.destroyed) client.resetAndDestroy() }, RESET_DELAY_MS))
        } else {
          // Stop reading both sides: the kernel buffers fill and every write stalls, like a dead path.
          stats.halfOpen++
          frozen = true
          client.pause()
          upstream.pause()
        }
      },
    }, (n) => { stats.bytesDown += n })
  })

  interface PipeOptions {
    latencyMs: number
    bytesPerSecond?: number
    stall?: { probability: number; ms: number }
    random?: () => number
    /** Bytes after which onLimit fires (and nothing more is forwarded). */
    limit?: number
    onStall?: () => void
    onLimit?: () => void
  }

  function pipe(src: Socket, dst: Socket, o: PipeOptions, count: (n: number) => void) {
    const queue: { chunk: Buffer; at: number }[] = []
    let queued = 0
    let sent = 0
    let pumping = false
    let ended = false
    let stopped = false
    let nextFreeAt = 0 // bandwidth clock

    src.on('data', (chunk: Buffer) => {
      if (stopped) return
      queue.push({ chunk, at: performance.now() + o.latencyMs })
      queued += chunk.length
      // Backpressure: a slow destination (or a slow pipe) slows the source, as a real path would.
      if (queued > 256 * 1024) src.pause()
      void pump()
    })
    src.on('end', () => { ended = true; void pump() })
    src.on('close', () => { ended = true; void pump() })

    async function pump() {
      if (pumping || stopped) return
      pumping = true
      try {
        while (queue.length && !stopped) {
          const head = queue[0]
          const wait = head.at - performance.now()
          if (wait > 0) await sleep(wait)
          if (o.stall && o.random && o.random() < o.stall.probability) {
            o.onStall?.()
            await sleep(o.stall.ms)
          }
          let chunk = head.chunk
          queue.shift()
          queued -= chunk.length
          while (chunk.length && !stopped) {
            let slice = chunk
            if (o.bytesPerSecond) slice = chunk.subarray(0, Math.max(1, Math.floor((o.bytesPerSecond * SLICE_MS) / 1000)))
            const limit = o.limit ?? Infinity
            if (sent + slice.length >= limit) slice = slice.subarray(0, limit - sent)
            if (o.bytesPerSecond) {
              const now = performance.now()
              if (nextFreeAt > now) await sleep(nextFreeAt - now)
              nextFreeAt = Math.max(nextFreeAt, performance.now()) + (slice.length * 1000) / o.bytesPerSecond
            }
            if (dst.destroyed) { stopped = true; break }
            if (slice.length) {
              sent += slice.length
              count(slice.length)
              if (!dst.write(slice)) await new Promise<void>((resolve) => { dst.once('drain', resolve); dst.once('close', resolve) })
            }
            chunk = chunk.subarray(slice.length)
            if (sent >= limit) {
              stopped = true
              o.onLimit?.()
            }
          }
          if (queued <= 64 * 1024 && src.isPaused() && !stopped) src.resume()
        }
        if (ended && !queue.length && !stopped && !dst.destroyed) dst.end()
      } finally {
        pumping = false
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as { port: number }
  const host = options.listen?.host ?? '127.0.0.1'
  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => ({ ...stats }),
    configure(next) { faults = { ...faults, ...next } },
    async close() {
      if (closing) return
      closing = true
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
