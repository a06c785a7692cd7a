import { spawn } from 'node:child_process'
import type { LoadSummary } from './run.ts'

const ROOT = new URL('../..', import.meta.url).pathname

/**
 * Runs the load tool (`tools/load/cli.ts`) as its own process and returns its JSON summary: the
 * benchmarks keep the tool and the server in separate processes, as a user's run would.
 */
export function spawnLoad(args: string[], options: { timeoutMs: number; onStderr?: (text: string) => void }): Promise<LoadSummary & { engine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/load/cli.ts', ...args, '--json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d; options.onStderr?.(String(d)) })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`load tool did not finish in ${options.timeoutMs} ms\n${err}`)) }, options.timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`load tool exited with ${code}\n${err}`))
      try { resolve(JSON.parse(out)) } catch { reject(new Error(`load tool printed no JSON\n${out}\n${err}`)) }
    })
  })
}
