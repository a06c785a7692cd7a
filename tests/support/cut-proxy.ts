// A TCP proxy that drops connections the way a flaky network does: after K bytes of a response it
// sends the part that fits and closes both sides. K comes from a plan, typically seeded random,
// so a failing run can be replayed. Plain node:net, so the client and server see real sockets.
import { createServer, connect, type Socket } from 'node:net'

export interface RequestInfo {
  /** Index of the request across the proxy's life (0-based). */
  index: number
  method: string
  path: string
  /** The request head as far as the first chunk holds it (headers, lower-cased names not guaranteed). */
  head: string
}

/** Bytes of the response after which to cut, or null to let the response through. */
export type CutPlan = (request: RequestInfo) => number | null

export interface CutProxy {
  url: string
  port: number
  /** Connections cut so far. */
  readonly cuts: number
  readonly requests: RequestInfo[]
  setPlan(plan: CutPlan): void
  close(): Promise<void>
}

const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/

export async function startCutProxy(target: string, plan: CutPlan = () => null): Promise<CutProxy> {
  const { hostname, port: targetPort } = new URL(target)
  const requests: RequestInfo[] = []
  const sockets = new Set<Socket>()
  let cuts = 0

  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), hostname)
    sockets.add(client).add(upstream)
    // Response bytes allowed through for the current request; null = unlimited.
    let budget: number | null = null
    let cut = false

    const closeBoth = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (chunk: Buffer) => {
      // Keep-alive carries several requests on one connection: a chunk that starts with a request
      // line is the next request (clients here do not pipeline), and its response gets its own budget.
      const text = chunk.toString('latin1')
      const m = REQUEST_LINE.exec(text)
      if (m) {
        const info: RequestInfo = { index: requests.length, method: m[1]!, path: m[2]!, head: text.split('\r\n\r\n')[0]! }
        requests.push(info)
        budget = plan(info)
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (cut) return
      if (budget === null || chunk.length < budget) {
        if (budget !== null) budget -= chunk.length
        client.write(chunk)
        return
      }
      cut = true
      cuts += 1
      const part = chunk.subarray(0, budget)
      upstream.destroy()
      client.write(part, () => client.destroy())
    })
    client.on('error', closeBoth)
    upstream.on('error', closeBoth)
    client.on('close', () => { sockets.delete(client); upstream.destroy() })
    upstream.on('close', () => { sockets.delete(upstream); if (!cut) client.end() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get cuts() { return cuts },
    requests,
    setPlan(next) { plan = next },
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
