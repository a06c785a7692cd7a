// PgBouncer in front of the stack's PostgreSQL, in transaction mode, as Supavisor's transaction
// mode (port 6543 on Supabase) behaves for a client: a server connection only for the length of a
// transaction, so no session state survives between transactions and no protocol-level prepared
// statement either (PgBouncer 1.18 has no prepared statement support at all). Debian's pgbouncer.
import { execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../server/pg-cluster.ts'

export const PGBOUNCER = '/usr/sbin/pgbouncer'

export interface Pooler {
  /** The pooled URL (same user and database as the server URL). */
  url: string
  /** PgBouncer's admin console (`SHOW POOLS`, `SHOW SERVERS`…): simple query protocol only. */
  adminUrl: string
  pid: number
  stop(): Promise<void>
}

export interface PoolerOptions {
  /** postgres://user@127.0.0.1:port/db of the server (trust authentication, as startCluster's). */
  serverUrl: string
  /** Server connections per database and user, and at most this many per database in all. */
  poolSize: number
  maxClientConnections?: number
  bin?: string
}

/** PgBouncer refuses to run as root, as PostgreSQL does: as root it runs as `postgres` (startCluster made it). */
function serviceIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}

function toIni(o: { serverHost: string; serverPort: string; port: number; dir: string; user: string; poolSize: number; maxClients: number }): string {
  return `[databases]
* = host=${o.serverHost} port=${o.serverPort}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${o.port}
unix_socket_dir =
auth_type = trust
auth_file = ${o.dir}/userlist.txt
admin_users = ${o.user}
pool_mode = transaction
default_pool_size = ${o.poolSize}
max_db_connections = ${o.poolSize}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = ${o.maxClients}
log_connections = 0
log_disconnections = 0
ignore_startup_parameters = extra_float_digits
`
}

/** Resolves once the port accepts a connection; rejects after `timeoutMs`. */
async function untilListening(port: number, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const why = exited()
    if (why !== undefined) throw new Error(`pgbouncer exited: ${why}`)
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (up) return
    if (Date.now() > end) throw new Error(`pgbouncer did not listen on ${port} in ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function startPooler(o: PoolerOptions): Promise<Pooler> {
  const bin = o.bin ?? PGBOUNCER
  if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install pgbouncer`)
  const server = new URL(o.serverUrl)
  const user = decodeURIComponent(server.username || 'postgres')
  const dir = mkdtempSync(join(tmpdir(), 'streamscope-pgbouncer-'))
  const ids = serviceIds()
  if (ids) chownSync(dir, ids.uid, ids.gid)
  const port = await freePort()
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`)
  writeFileSync(join(dir, 'pgbouncer.ini'), toIni({
    serverHost: server.hostname, serverPort: server.port || '5432', port, dir, user, poolSize: o.poolSize, maxClients: o.maxClientConnections ?? 2000,
  }))
  let output = ''
  const child = spawn(bin, [join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'], ...ids })
  const keep = (d: Buffer) => { output = (output + d).slice(-8_000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const gone = () => child.exitCode !== null || child.signalCode !== null ? `${child.exitCode ?? child.signalCode}\n${output}` : undefined
  const stop = async () => {
    // SIGTERM is PgBouncer 1.18's immediate shutdown; SIGKILL if it hangs.
    if (!gone()) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await untilListening(port, 15_000, gone)
  } catch (err) {
    await stop()
    throw err
  }
  const at = (db: string) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${db}`
  return { url: at(server.pathname.slice(1) || 'postgres'), adminUrl: at('pgbouncer'), pid: child.pid!, stop }
}
