// What a scenario or benchmark runs against: a private PostgreSQL cluster (stoppable) with the real
// server (`server/start.ts`, what `npm start` runs) on it, or a server someone else started (--url).
import postgres, { type Sql } from 'postgres'
import { findPgBin, startCluster, type Cluster } from '../../tests/support/pg-cluster.ts'
import { startServer, type RunningServer } from '../../tests/support/server.ts'
import { createProbe, type Probe } from '../load/probe.ts'
import { pidListeningOn } from '../load/proc.ts'

export interface Stack {
  baseUrl: string
  /** The server process, when it runs on this machine and this user can see it. */
  pid?: number
  /** The server's database, when known (a private cluster, or --database-url). */
  sql?: Sql
  cluster?: Cluster
  server?: RunningServer
  /** The server's own view (event-loop lag, CPU, heap), own server only. */
  probe?: Probe
  /** What the server printed so far (own server only). */
  output(): string
  stop(): Promise<void>
}

/** Settings every load run needs: no per-user limits (one machine plays thousands of users), quiet stdout. */
export const LOAD_ENV: Record<string, string> = {
  RATE_LIMIT_RPM: '0',
  RATE_LIMIT_TPM: '0',
  LOG_CONSOLE_LEVEL: 'error',
  SIM_FAILURE_RATE: '0',
  SIM_MID_STREAM_FAILURE_RATE: '0',
}

export interface StackOptions {
  /** An already running deployment: nothing is started. */
  url?: string
  databaseUrl?: string
  /** Server environment on top of LOAD_ENV (own server only). */
  env?: Record<string, string>
  /** Extra Node/V8 flags for the server process (e.g. --max-semi-space-size=64), own server only. */
  nodeOptions?: string
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  if (o.url) {
    const u = new URL(o.url)
    const sql = o.databaseUrl ? postgres(o.databaseUrl, { max: 4, onnotice: () => {} }) : undefined
    return {
      baseUrl: o.url.replace(/\/+$/, ''),
      pid: ['127.0.0.1', 'localhost'].includes(u.hostname) ? pidListeningOn(Number(u.port || 80)) : undefined,
      sql,
      output: () => '',
      stop: async () => { await sql?.end({ timeout: 1 }) },
    }
  }
  const bin = findPgBin()
  if (!bin) throw new Error('no PostgreSQL server installed (apt-get install postgresql-15), or pass --url')
  const cluster = await startCluster(bin)
  const probe = createProbe()
  const nodeOptions = `${probe.env.NODE_OPTIONS} ${o.nodeOptions ?? ''}`.trim()
  let server: RunningServer | undefined
  // The server (re)builds the dashboard when its sources changed; a build racing another one in
  // the same checkout can fail. Three tries, a few seconds apart, then give up.
  for (let attempt = 1; !server; attempt++) {
    try {
      server = await startServer({ DATABASE_URL: cluster.url, ...LOAD_ENV, ...probe.env, NODE_OPTIONS: nodeOptions, ...o.env })
    } catch (err) {
      if (attempt >= 3) {
        cluster.destroy()
        throw err
      }
      console.error(`server did not start (attempt ${attempt}): ${String((err as Error).message).split('\n').slice(0, 3).join(' | ')}; retrying`)
      await new Promise((r) => setTimeout(r, 5_000))
    }
  }
  // The server ran the migrations; this pool is the scenario's own, for checks after the run.
  const sql = postgres(cluster.url, { max: 4, onnotice: () => {} })
  return {
    baseUrl: server.baseUrl,
    pid: pidListeningOn(Number(new URL(server.baseUrl).port)),
    sql,
    cluster,
    server,
    probe,
    output: server.output,
    async stop() {
      await server.stop()
      await sql.end({ timeout: 1 }).catch(() => {})
      cluster.destroy()
    },
  }
}
