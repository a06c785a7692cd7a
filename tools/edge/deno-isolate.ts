// One isolate of `npm run edge`: a Deno process running a function's entry file unchanged, with
// tools/edge/edge-runtime.ts preloaded for what Supabase's runtime adds (EdgeRuntime.waitUntil,
// beforeunload with a reason). The real Deno from node_modules; `--node-modules-dir=manual`
// resolves the deno.json import map's npm: specifiers from node_modules, as the tests do.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { freePort } from '../../server/pg-cluster.ts'
import type { IsolateProcess, Launch, ProcessExit } from './isolates.ts'
import { GRACE_ENV, SHUTDOWN_PREFIX, type ShutdownReason } from './protocol.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const DENO = join(ROOT, 'node_modules/.bin/deno')
const RUNTIME = join(ROOT, 'tools/edge/edge-runtime.ts')
const READY = 'Listening on'

export const FUNCTION_ENTRIES: Record<string, string> = {
  chat: 'supabase/functions/chat/index.ts',
  embed: 'supabase/functions/embed/index.ts',
}

export interface DenoLauncherOptions {
  /** The entries' environment (PORT is the launcher's). */
  env: Record<string, string>
  graceMs: number
  /** The isolate's heap limit (Supabase: 256 MB per isolate). */
  memoryMb: number
  entries?: Record<string, string>
  /** More modules to load before the entry, after the runtime (paths from the repository root). */
  preloads?: string[]
  /** Every line the isolate prints. */
  onOutput?: (id: string, line: string) => void
  readyTimeoutMs?: number
}

export function createDenoLauncher(o: DenoLauncherOptions): Launch {
  const entries = o.entries ?? FUNCTION_ENTRIES
  return async (fn, id, signal) => {
    const entry = entries[fn]
    if (!entry) throw new Error(`no entry file for function ${fn}`)
    if (signal.aborted) throw new Error(`${id}: stopped before it started`)
    const port = await freePort()
    const child = spawn(DENO, [
      'run', '--node-modules-dir=manual', '--allow-net', '--allow-env', '--allow-read', '--allow-sys',
      `--v8-flags=--max-old-space-size=${o.memoryMb}`, '--preload', RUNTIME, ...(o.preloads ?? []).flatMap((p) => ['--preload', p]), entry,
    ], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_NO_UPDATE_CHECK: '1', ...o.env, [GRACE_ENV]: String(o.graceMs), PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches the stack, which ends isolates in
      // order. An isolate whose stack died anyway sees its stdin end and terminates.
      detached: true,
    })
    child.stdin!.on('error', () => {}) // writes to an isolate that just died
    let announced: ShutdownReason | undefined
    let ready = false
    const recent: string[] = []
    const onReady = new Set<() => void>()
    const onLine = (line: string) => {
      if (line.startsWith(SHUTDOWN_PREFIX)) announced = line.slice(SHUTDOWN_PREFIX.length).trim() as ShutdownReason
      if (!ready) {
        recent.push(line)
        if (recent.length > 40) recent.shift()
        if (line.includes(READY)) { ready = true; onReady.forEach((f) => f()) }
      }
      o.onOutput?.(id, line)
    }
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop()!
        lines.forEach(onLine)
      })
      stream.on('end', () => { if (partial) onLine(partial) })
    }
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('close', (code, sig) => resolve({ code, signal: sig, announced }))
    })
    const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => { cleanup(); kill(); void exited.then(() => reject(new Error(`${id}: ${why}\n${recent.join('\n')}`))) }
      const timer = setTimeout(() => fail(`did not listen in ${(o.readyTimeoutMs ?? 60_000) / 1000} s`), o.readyTimeoutMs ?? 60_000)
      const onAbort = () => fail('stopped before it listened')
      const done = () => { cleanup(); resolve() }
      const cleanup = () => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); onReady.delete(done) }
      onReady.add(done)
      signal.addEventListener('abort', onAbort)
      void exited.then((e) => { if (!ready) { cleanup(); reject(new Error(`${id}: exited with ${e.code ?? e.signal} before it listened\n${recent.join('\n')}`)) } })
    })
    const proc: IsolateProcess = {
      pid: child.pid!,
      port,
      send: (line) => { if (child.stdin!.writable) child.stdin!.write(line) },
      end: () => { child.stdin!.end() },
      kill,
      exited,
    }
    return proc
  }
}
