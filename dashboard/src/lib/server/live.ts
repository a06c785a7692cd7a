import { readTelemetry } from './db'

/** How often the database is asked whether the rollups moved: new data shows within ~1 s of being written. */
export const POLL_MS = 1000

export type LiveEvent = { type: 'change'; signature: string } | { type: 'problem'; message: string }
type Listener = (event: LiveEvent) => void

const listeners = new Set<Listener>()
let timer: ReturnType<typeof setInterval> | undefined
let last: string | undefined
let polling = false
let failing = false

/**
 * One poller for every open live stream, running only while someone listens. Its question
 * is cheap (the last two hours of the minute rollup, by its primary key) and changes
 * whenever a request is written; it does not change while nothing happens, so idle pages
 * are not reloaded.
 */
async function poll() {
  if (polling) return
  polling = true
  try {
    const signature = await readTelemetry(async (sql) => {
      const [row] = await sql<{ signature: string }[]>`
        select count(*) || ':' || coalesce(sum(requests), 0) || ':' || coalesce(max(bucket)::text, '') as signature
        from telemetry.rollup_minute where bucket >= now() - interval '2 hours'`
      return row?.signature ?? ''
    })
    // After a failure, a change even when nothing moved: the pages showing the problem reload.
    const recovered = failing
    failing = false
    if (last !== undefined && (signature !== last || recovered)) for (const l of listeners) l({ type: 'change', signature })
    last = signature
  } catch (err) {
    if (!failing) for (const l of listeners) l({ type: 'problem', message: (err as Error).message })
    failing = true
  } finally {
    polling = false
  }
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener)
  if (!timer) {
    last = undefined
    void poll()
    timer = setInterval(() => void poll(), POLL_MS)
  }
  return () => {
    listeners.delete(listener)
    if (listeners.size === 0 && timer) {
      clearInterval(timer)
      timer = undefined
    }
  }
}
