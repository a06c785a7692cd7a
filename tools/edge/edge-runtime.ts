// What Supabase's edge-runtime gives a function and plain Deno does not, for one isolate of
// `npm run edge`: loaded with `deno run --preload` before the unchanged entry file.
//
// - `EdgeRuntime.waitUntil(promise)`, so the entries take their Supabase path.
// - The platform's shutdown: a `beforeunload` CustomEvent with `detail.reason` (the reasons
//   edge-runtime dispatches: wall_clock, early_drop, termination), then exit, which fires `unload`.
//
// The stack (tools/edge/isolates.ts) drives it with one command per line on stdin:
//   beforeunload <reason>   dispatch the event (the wall clock is nearly up)
//   exit <reason>           end the isolate now: whatever is in flight is cut
//   drop-when-idle          the isolate is retired and has no request in flight: once no
//                           waitUntil promise is pending, beforeunload early_drop and exit
// stdin's end (the stack stopping, or gone) and SIGTERM/SIGINT are a termination: beforeunload
// termination, then exit once waitUntil work is done or the grace is over (GRACE_ENV). Each exit
// first prints SHUTDOWN_PREFIX and the reason on stderr.
import { GRACE_ENV, SHUTDOWN_PREFIX } from './protocol.ts'

declare const Deno: {
  stdin: { readable: ReadableStream<Uint8Array> }
  env: { get(name: string): string | undefined }
  exit(code?: number): never
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void
}

const graceMs = Number(Deno.env.get(GRACE_ENV) ?? 2000)
let pending = 0
const idleWaiters: (() => void)[] = []
let ending = false

Object.defineProperty(globalThis, 'EdgeRuntime', {
  value: {
    waitUntil<T>(work: Promise<T>): Promise<T> {
      pending++
      const settle = () => {
        pending--
        if (pending === 0) idleWaiters.splice(0).forEach((resolve) => resolve())
      }
      // then(settle, settle), not finally: a rejected task must not become a second, unhandled rejection.
      Promise.resolve(work).then(settle, settle)
      return work
    },
  },
})

function beforeunload(reason: string) {
  globalThis.dispatchEvent(new CustomEvent('beforeunload', { cancelable: true, detail: { reason } }))
}

function exit(reason: string): never {
  console.error(`${SHUTDOWN_PREFIX}${reason}`)
  Deno.exit(0)
}

/** Resolves once no waitUntil promise is pending (now, if none is). */
const idle = () => new Promise<void>((resolve) => {
  if (pending === 0) resolve()
  else idleWaiters.push(resolve)
})

function terminate() {
  if (ending) return
  ending = true
  beforeunload('termination')
  const timer = setTimeout(() => exit('termination'), graceMs)
  void idle().then(() => { clearTimeout(timer); exit('termination') })
}

function dropWhenIdle() {
  void idle().then(() => {
    if (ending) return
    ending = true
    beforeunload('early_drop')
    exit('early_drop')
  })
}

function run(line: string) {
  const [command, reason = 'unknown'] = line.trim().split(/\s+/)
  if (command === 'beforeunload') beforeunload(reason)
  else if (command === 'exit') exit(reason)
  else if (command === 'drop-when-idle') dropWhenIdle()
}

async function readCommands() {
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for await (const chunk of Deno.stdin.readable) {
      buffered += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        run(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
      }
    }
  } finally {
    terminate()
  }
}

// After the entry has loaded: Deno runs a preloaded module's event loop to its end before the
// main module, so pending reads here would hold the entry back.
globalThis.addEventListener('load', () => {
  Deno.addSignalListener('SIGTERM', terminate)
  Deno.addSignalListener('SIGINT', terminate)
  void readCommands()
})
