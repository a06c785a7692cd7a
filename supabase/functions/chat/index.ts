// Supabase Edge Function entry for `chat`: the runtime-specific edge only.
// The handler is the same module the Node server and the tests use.
import postgres from 'postgres'
import { createFunctions } from '../../../functions/compose.ts'
import { CLIENT_OPTIONS } from '../../../shared/db/client-options.ts'
import { NO_DELAY_SOCKET } from '../../../shared/db/pg-socket.ts'
import { faultAttributes, PROCESS_FAULT_MESSAGE } from '../../../shared/telemetry/faults.ts'

declare const EdgeRuntime: { waitUntil(work: Promise<unknown>): void } | undefined

const env = Deno.env.toObject()
// SUPABASE_DB_URL is set on Supabase. Through the transaction pooler prepared
// statements must be off.
const sql = postgres(env.SUPABASE_DB_URL ?? env.DATABASE_URL, { max: 3, prepare: false, ...CLIENT_OPTIONS, ...NO_DELAY_SOCKET })
const { chat, telemetry } = createFunctions(sql, env, {
  waitUntil: typeof EdgeRuntime !== 'undefined' ? (work) => EdgeRuntime.waitUntil(work) : undefined,
})

// A rejection nothing handled would end the isolate and every stream in it: logged, survived.
globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault()
  telemetry.logger.error(PROCESS_FAULT_MESSAGE, faultAttributes(event.reason))
})

// PORT is for running the entry by hand or in tests; on Supabase the runtime owns the socket.
if (env.PORT) Deno.serve({ port: Number(env.PORT), hostname: env.HOST ?? '127.0.0.1' }, chat)
else Deno.serve(chat)
