// Supabase Edge Function entry for `chat`: the runtime-specific edge only.
// The handler is the same module the Node server and the tests use.
import { createFunctions } from '../../../functions/compose.ts'
import { readConfig } from '../../../shared/config.ts'
import { openFunctionsDatabase } from '../../../shared/db/open.ts'
import { faultAttributes, PROCESS_FAULT_MESSAGE } from '../../../shared/telemetry/faults.ts'

declare const EdgeRuntime: { waitUntil(work: Promise<unknown>): void } | undefined

const env = Deno.env.toObject()
const sql = openFunctionsDatabase(env)
const { chat, telemetry } = createFunctions(sql, readConfig(env), {
  waitUntil: typeof EdgeRuntime !== 'undefined' ? (work) => EdgeRuntime.waitUntil(work) : undefined,
})

// A rejection nothing handled would end the isolate and every stream in it: logged, survived.
globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault()
  telemetry.logger.error(PROCESS_FAULT_MESSAGE, faultAttributes(event.reason))
})
// The platform is about to end this isolate: requests still open are ended as cut by shutdown, the queue written.
globalThis.addEventListener('beforeunload', (event) => void telemetry.unload((event as CustomEvent).detail))

// PORT is for running the entry by hand or in tests; on Supabase the runtime owns the socket.
if (env.PORT) Deno.serve({ port: Number(env.PORT), hostname: env.HOST ?? '127.0.0.1' }, chat)
else Deno.serve(chat)
