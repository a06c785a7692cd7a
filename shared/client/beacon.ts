// Client-observed timings sent back after `done`, so the dashboard can put client TTFB next to the
// server's. fetch with keepalive rather than navigator.sendBeacon: it survives the page closing
// just the same, and it can carry the Authorization header, so the server can check that the
// trace belongs to the caller instead of trusting any anonymous POST.
import type { Endpoint } from './endpoint.ts'

export interface BeaconPayload {
  /** The stream's `x-stream-id`: the answer being timed. */
  stream_id?: string
  /** The chat's trace; what a server from before stream ids goes by. */
  trace_id: string
  client_ttfb_ms: number | null
  client_duration_ms: number
}

/** Fire and forget: a lost beacon costs a data point, never the chat. Resolves to the HTTP status or 0. */
export async function sendBeacon(url: string, payload: BeaconPayload, endpoint: Endpoint, fetchImpl: typeof fetch): Promise<number> {
  try {
    const res = await fetchImpl(url, {
      method: 'POST',
      keepalive: true,
      headers: { ...await endpoint.headers(), 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    })
    await res.body?.cancel().catch(() => {})
    return res.status
  } catch {
    return 0
  }
}
