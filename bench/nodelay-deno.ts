// Run by bench/nodelay.ts under Deno: small COPY transactions (the telemetry write shape)
// with postgres.js's default socket and with shared/db/pg-socket.ts (TCP_NODELAY).
import postgres from 'postgres'
import { copyTransaction } from '../shared/telemetry/copy.ts'
import { NO_DELAY_SOCKET } from '../shared/db/pg-socket.ts'

// Deno's own global; declared here so the repo's Node type check reads this file too.
declare const Deno: { args: string[] }

const [url, rounds = '10'] = Deno.args
const items = Array.from({ length: 200 }, (_, i) => ({ line: `row-${i}\t${i}\n` }))
const result: Record<string, number[]> = { default: [], nodelay: [] }
for (let r = 0; r < 2; r++) {
  for (const mode of ['default', 'nodelay'] as const) {
    const sql = postgres(url, { max: 1, onnotice: () => {}, ...(mode === 'nodelay' ? NO_DELAY_SOCKET : {}) })
    await sql`create table if not exists nodelay_bench (a text, b int)`
    const once = () => copyTransaction(sql, async (copy, tx) => { await copy('nodelay_bench', ['a', 'b'], items); await tx`select 1` })
    await once() // connect, warm up
    const t0 = performance.now()
    for (let k = 0; k < Number(rounds); k++) await once()
    result[mode].push((performance.now() - t0) / Number(rounds))
    await sql.end()
  }
}
console.log(JSON.stringify(result))
