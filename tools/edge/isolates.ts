// The isolate pool of `npm run edge`: N isolates per function, each living as the platform lets
// one live. From the moment it listens, an isolate serves until half its wall clock, when it is
// retired (no new requests; a replacement starts) and, once nothing is in flight and no waitUntil
// promise is pending, dropped early. If it is still there, it gets `beforeunload` (wall_clock) the
// grace before its wall clock ends, and is ended when it does — edge-runtime's supervisor, in that
// order (docs/edge.md). `killEveryMs` SIGKILLs a random isolate now and then; whatever ends an
// isolate that still served, a replacement starts. How an isolate is run is the launcher's job.
import { command, type ShutdownReason } from './protocol.ts'

export interface ProcessExit {
  code: number | null
  signal: string | null
  /** The reason the isolate's runtime printed before exiting, when it exited on its own. */
  announced?: ShutdownReason
}

export interface IsolateProcess {
  pid: number
  port: number
  /** Writes one command line to the isolate's runtime (tools/edge/protocol.ts); ignored once it is gone. */
  send(line: string): void
  /** Closes its command input: a termination (beforeunload, waitUntil work given the grace, exit). */
  end(): void
  /** SIGKILL: no event, nothing flushed. */
  kill(): void
  exited: Promise<ProcessExit>
}

/** Starts one isolate of `fn` and resolves once it listens; an aborted signal kills it and rejects. */
export type Launch = (fn: string, id: string, signal: AbortSignal) => Promise<IsolateProcess>

export interface IsolateInfo {
  id: string
  function: string
  pid: number
  port: number
  started_at: string
  /** Past half its wall clock: draining, no new requests. */
  retired: boolean
}

export type ExitReason = ShutdownReason | 'killed' | 'crashed'

export interface IsolateExit {
  id: string
  function: string
  pid: number
  reason: ExitReason
  code: number | null
  signal: string | null
  at: string
}

/** What the gateway holds while it forwards a request. */
export interface Isolate {
  readonly info: IsolateInfo
  /** Counts a request in flight; call the returned function once when its response is over. */
  begin(): () => void
}

export interface IsolatePool {
  /** Starts every isolate; rejects (and stops what started) if one of these first ones fails. */
  start(): Promise<void>
  /** A random serving isolate of `fn`: no stickiness. */
  pick(fn: string): Isolate | undefined
  /** `pick`, waiting up to `timeoutMs` for an isolate of `fn` to be serving. */
  waitForServing(fn: string, timeoutMs: number): Promise<Isolate | undefined>
  list(): IsolateInfo[]
  /** The latest exits, oldest first. */
  exits(): IsolateExit[]
  /** SIGKILLs an isolate, as the platform may at any time; false when no such isolate lives. */
  kill(id: string): boolean
  stop(): Promise<void>
}

export interface PoolOptions {
  functions: string[]
  perFunction: number
  launch: Launch
  /** An isolate's life from the moment it listens; 0 = unlimited. */
  wallClockMs: number
  /** How long before the end of its wall clock an isolate gets `beforeunload`, and how long a terminated one may take. */
  graceMs: number
  /** SIGKILL a random isolate this often; 0 or absent = never. */
  killEveryMs?: number
  random?: () => number
  log?: (line: string) => void
}

/** How long an isolate told to exit may take before it is SIGKILLed (a busy loop never reads stdin). */
const EXIT_DEADLINE_MS = 2_000
const KEPT_EXITS = 1_000
const RETRY_MS = { first: 1_000, max: 30_000 }

interface Live {
  info: IsolateInfo
  proc: IsolateProcess
  inFlight: number
  timers: ReturnType<typeof setTimeout>[]
  killed: boolean
  dropAsked: boolean
  /** Why the pool ended it, when it did (a SIGKILL after an unheeded exit keeps the reason). */
  ending?: ShutdownReason
}

export function createIsolatePool(o: PoolOptions): IsolatePool {
  const random = o.random ?? Math.random
  const log = o.log ?? (() => {})
  const live = new Map<string, Live>()
  const launching = new Map<string, number>(o.functions.map((fn) => [fn, 0]))
  const waiters = new Set<{ fn: string; wake: () => void }>()
  const exits: IsolateExit[] = []
  const stopSignal = new AbortController()
  const retryMs = new Map<string, number>()
  const pending = new Set<Promise<void>>()
  let nextId = 1
  let killer: ReturnType<typeof setInterval> | undefined

  const serving = (fn: string) => [...live.values()].filter((i) => i.info.function === fn && !i.info.retired && !i.killed && !i.ending)

  function launchOne(fn: string): Promise<void> {
    const started = startOne(fn)
    pending.add(started)
    void started.finally(() => pending.delete(started)).catch(() => {})
    return started
  }

  async function startOne(fn: string): Promise<void> {
    const id = `${fn}-${nextId++}`
    launching.set(fn, launching.get(fn)! + 1)
    let proc: IsolateProcess
    try {
      proc = await o.launch(fn, id, stopSignal.signal)
    } finally {
      launching.set(fn, launching.get(fn)! - 1)
    }
    if (stopSignal.signal.aborted) {
      proc.kill()
      await proc.exited
      throw new Error(`${id} started while the pool was stopping`)
    }
    const iso: Live = {
      info: { id, function: fn, pid: proc.pid, port: proc.port, started_at: new Date().toISOString(), retired: false },
      proc, inFlight: 0, timers: [], killed: false, dropAsked: false,
    }
    live.set(id, iso)
    schedule(iso)
    void proc.exited.then((e) => onExit(iso, e))
    for (const w of waiters) if (w.fn === fn) w.wake()
  }

  /** Starts isolates of `fn` until as many serve (or are starting) as asked; a failed start is retried, later and later. */
  function fill(fn: string) {
    if (stopSignal.signal.aborted) return
    for (let n = serving(fn).length + launching.get(fn)!; n < o.perFunction; n++) {
      launchOne(fn).then(() => retryMs.delete(fn), (err: Error) => {
        if (stopSignal.signal.aborted) return
        const wait = retryMs.get(fn) ?? RETRY_MS.first
        retryMs.set(fn, Math.min(wait * 2, RETRY_MS.max))
        log(`an isolate of ${fn} did not start (retrying in ${wait / 1000} s): ${err.message}`)
        setTimeout(() => fill(fn), wait)
      })
    }
  }

  function schedule(iso: Live) {
    if (o.wallClockMs <= 0) return
    const half = o.wallClockMs / 2
    const at = (ms: number, fn: () => void) => iso.timers.push(setTimeout(fn, ms))
    at(half, () => retire(iso))
    at(o.wallClockMs - Math.min(o.graceMs, half), () => iso.proc.send(command.beforeunload('wall_clock')))
    at(o.wallClockMs, () => end(iso, 'wall_clock'))
  }

  function retire(iso: Live) {
    iso.info.retired = true
    fill(iso.info.function)
    if (iso.inFlight === 0) dropWhenIdle(iso)
  }

  function dropWhenIdle(iso: Live) {
    if (iso.dropAsked) return
    iso.dropAsked = true
    iso.proc.send(command.dropWhenIdle())
  }

  function end(iso: Live, reason: ShutdownReason) {
    iso.ending = reason
    iso.proc.send(command.exit(reason))
    iso.timers.push(setTimeout(() => iso.proc.kill(), EXIT_DEADLINE_MS))
  }

  function onExit(iso: Live, e: ProcessExit) {
    iso.timers.forEach(clearTimeout)
    live.delete(iso.info.id)
    const reason: ExitReason = iso.killed ? 'killed' : e.announced ?? iso.ending ?? 'crashed'
    exits.push({ id: iso.info.id, function: iso.info.function, pid: iso.info.pid, reason, code: e.code, signal: e.signal, at: new Date().toISOString() })
    if (exits.length > KEPT_EXITS) exits.shift()
    if (stopSignal.signal.aborted) return
    log(`${iso.info.id} (pid ${iso.info.pid}) ended: ${reason}${reason === 'crashed' ? ` (code ${e.code}, signal ${e.signal})` : ''}`)
    if (!iso.info.retired) fill(iso.info.function)
  }

  const asIsolate = (iso: Live): Isolate => ({
    info: iso.info,
    begin() {
      iso.inFlight++
      let done = false
      return () => {
        if (done) return
        done = true
        iso.inFlight--
        if (iso.info.retired && iso.inFlight === 0) dropWhenIdle(iso)
      }
    },
  })

  function pick(fn: string): Isolate | undefined {
    const candidates = serving(fn)
    if (!candidates.length) return undefined
    return asIsolate(candidates[Math.floor(random() * candidates.length)]!)
  }

  function kill(id: string): boolean {
    const iso = live.get(id)
    if (!iso) return false
    iso.killed = true
    iso.proc.kill()
    return true
  }

  return {
    async start() {
      try {
        await Promise.all(o.functions.flatMap((fn) => Array.from({ length: o.perFunction }, () => launchOne(fn))))
      } catch (err) {
        await this.stop()
        throw err
      }
      if (o.killEveryMs && o.killEveryMs > 0) {
        killer = setInterval(() => {
          const all = [...live.values()].filter((i) => !i.killed)
          if (all.length) kill(all[Math.floor(random() * all.length)]!.info.id)
        }, o.killEveryMs)
      }
    },
    pick,
    async waitForServing(fn, timeoutMs) {
      const now = pick(fn)
      if (now || !launching.has(fn) || stopSignal.signal.aborted) return now
      return new Promise((resolve) => {
        const waiter = { fn, wake: () => { clearTimeout(timer); waiters.delete(waiter); resolve(pick(fn)) } }
        const timer = setTimeout(waiter.wake, timeoutMs)
        waiters.add(waiter)
      })
    },
    list: () => [...live.values()].map((i) => ({ ...i.info })),
    exits: () => exits.map((e) => ({ ...e })),
    kill,
    async stop() {
      stopSignal.abort()
      clearInterval(killer)
      for (const w of waiters) w.wake()
      const all = [...live.values()]
      for (const iso of all) {
        iso.timers.forEach(clearTimeout)
        iso.proc.end()
        iso.timers.push(setTimeout(() => iso.proc.kill(), o.graceMs + EXIT_DEADLINE_MS))
      }
      await Promise.all([...all.map((iso) => iso.proc.exited), ...[...pending].map((p) => p.catch(() => {}))])
    },
  }
}
