import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'

const ROOT = new URL('..', import.meta.url).pathname
const HANDLER = join(ROOT, 'dashboard/build/handler.js')

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Builds the dashboard when its build is missing or older than its sources, then loads it. */
export async function loadDashboard(log: (line: string) => void): Promise<NodeHandler> {
  const sources = Math.max(newestMtime(join(ROOT, 'dashboard/src')), newestMtime(join(ROOT, 'shared')))
  if (!existsSync(HANDLER) || statSync(HANDLER).mtimeMs < sources) {
    log('building the dashboard (vite build dashboard)…')
    const build = spawnSync('npx', ['vite', 'build', 'dashboard', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' })
    if (build.status !== 0) throw new Error('dashboard build failed')
  }
  const { handler } = await import(HANDLER) as { handler: NodeHandler }
  return handler
}
