import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from './pg-cluster.ts'

export interface RunningServer {
  baseUrl: string
  output: () => string
  stop(): Promise<void>
}

const ROOT = new URL('../..', import.meta.url).pathname

/**
 * The workers' environment without the settings that name a deployment (the shell running the
 * tests may set them): a server a test starts is configured only by what the test passes (without
 * DATABASE_URL, its embedded default).
 */
function inherited(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, JWT_SECRET: _jwt, OPERATOR_TOKEN: _op, ...rest } = process.env
  return rest
}

/**
 * Starts `server/start.ts` (what `npm start` runs), or another entry, as a child process and
 * waits until it prints its ready line.
 */
export async function startServer(
  env: Record<string, string>, entry: { file: string; args?: string[]; ready: string } = { file: 'server/start.ts', ready: 'streamscope is up' },
): Promise<RunningServer> {
  const port = await freePort()
  let out = ''
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry.file, ...entry.args ?? []], {
    cwd: ROOT,
    env: { ...inherited(), PORT: String(port), HOST: '127.0.0.1', DEMO: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { out += d })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000)
    const check = () => { if (out.includes(entry.ready)) { clearTimeout(timer); resolve() } }
    child.stdout!.on('data', check)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)) })
  })
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}
