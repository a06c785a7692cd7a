// npm run bench:nodelay — what TCP_NODELAY (shared/db/pg-socket.ts) is worth to a COPY
// transaction of 200 rows under Deno, the Supabase runtime: postgres.js's default socket
// (Nagle on) against the no-delay socket, same private PostgreSQL cluster, interleaved.
// Not a test: figures only.
import { spawnSync } from 'node:child_process'
import { findPgBin, startCluster } from '../tests/support/pg-cluster.ts'

const bin = findPgBin()
if (!bin) throw new Error('needs a PostgreSQL server (apt-get install postgresql-15)')
const cluster = await startCluster(bin)
try {
  const ROOT = new URL('..', import.meta.url).pathname
  const r = spawnSync(`${ROOT}node_modules/.bin/deno`, [
    'run', '--node-modules-dir=manual', '--config', 'supabase/functions/deno.json',
    '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'bench/nodelay-deno.ts', cluster.url,
  ], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } })
  if (r.status !== 0) throw new Error(`deno failed:\n${r.stderr}`)
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<'default' | 'nodelay', number[]>
  const ms = (xs: number[]) => xs.map((x) => `${x.toFixed(1)} ms`).join(', ')
  console.log('COPY transaction of 200 rows under Deno (two interleaved rounds of 10)')
  console.log(`  driver's default socket  ${ms(result.default)}`)
  console.log(`  TCP_NODELAY socket       ${ms(result.nodelay)}`)
  const best = (xs: number[]) => Math.min(...xs)
  console.log(`  ratio ${(best(result.default) / best(result.nodelay)).toFixed(1)}x faster with TCP_NODELAY (best of each)`)
} finally {
  cluster.destroy()
}
