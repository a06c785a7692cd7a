import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from './pg-cluster.ts'

const ROOT = new URL('../..', import.meta.url).pathname

export interface DenoEntry {
  /** http://127.0.0.1:<port>/ */
  url: string
  stop(): void
}

/**
 * Runs a Supabase function entry (`supabase/functions/<name>/index.ts`) under the real
 * Deno from node_modules. `--node-modules-dir=manual` resolves the deno.json import
 * map's npm: specifiers from node_modules instead of the registry.
 */
export async function startDenoEntry(entry: string, env: Record<string, string>): Promise<DenoEntry> {
  const port = await freePort()
  const deno: ChildProcess = spawn(`${ROOT}node_modules/.bin/deno`,
    ['run', '--node-modules-dir=manual', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_NO_UPDATE_CHECK: '1', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deno did not listen in 60 s:\n${out}`)), 60_000)
    const onData = (d: Buffer) => { out += d; if (out.includes('Listening on')) { clearTimeout(timer); resolve() } }
    deno.stdout!.on('data', onData)
    deno.stderr!.on('data', onData)
    deno.on('exit', (code) => { clearTimeout(timer); reject(new Error(`deno exited with ${code}:\n${out}`)) })
  })
  return { url: `http://127.0.0.1:${port}/`, stop: () => void deno.kill() }
}
