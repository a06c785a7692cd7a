import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DashboardConfig } from '../shared/dashboard-config.ts'
import { provideDashboardConfig } from '../shared/dashboard-handoff.ts'

const ROOT = new URL('..', import.meta.url).pathname
const HANDLER = join(ROOT, 'dashboard/build/handler.js')
const LOCK = join(ROOT, 'dashboard/.build-lock')

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

const isStale = () => {
  const sources = Math.max(newestMtime(join(ROOT, 'dashboard/src')), newestMtime(join(ROOT, 'shared')))
  return !existsSync(HANDLER) || statSync(HANDLER).mtimeMs < sources
}

/**
 * One build at a time across processes (several test servers may start at once on a
 * stale build): a lock directory, with a stale lock (a crashed builder) taken over
 * after two minutes.
 */
async function withBuildLock(fn: () => void) {
  for (;;) {
    try {
      mkdirSync(LOCK)
      break
    } catch {
      const since = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (since > 120_000) rmSync(LOCK, { recursive: true, force: true })
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  try {
    fn()
  } finally {
    rmSync(LOCK, { recursive: true, force: true })
  }
}

/**
 * Builds the dashboard when its build is missing or older than its sources, then loads it with
 * `config`: handed over before the handler is imported, because its start-up hook reads it.
 */
export async function loadDashboard(config: DashboardConfig, log: (line: string) => void): Promise<NodeHandler> {
  if (isStale()) {
    await withBuildLock(() => {
      if (!isStale()) return // another process built it while we waited
      log('building the dashboard (vite build dashboard)…')
      const build = spawnSync('npx', ['vite', 'build', 'dashboard', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' })
      if (build.status !== 0) throw new Error('dashboard build failed')
    })
  }
  provideDashboardConfig(config)
  const { handler } = await import(HANDLER) as { handler: NodeHandler }
  return handler
}
