// The last line of defence of the Node server: a promise rejection nobody handled is logged
// with the trace of the request it came from, counted, and survived. Every such line is a bug
// to fix where the rejection escaped; the process must not take every open stream with it.
import { AsyncLocalStorage } from 'node:async_hooks'
import { faultAttributes, PROCESS_FAULT_MESSAGE } from '../shared/telemetry/faults.ts'
import type { Logger } from '../shared/telemetry/logger.ts'

export interface RequestScope {
  method: string
  path: string
  /** The request's own trace, once the server has answered (its x-trace-id). */
  traceId: string | null
}

/**
 * The request a piece of work belongs to. Node runs an `unhandledRejection` listener in the
 * async context of the promise that rejected, so the listener sees the request's scope.
 */
export const requestScope = new AsyncLocalStorage<RequestScope>()

/** Wraps a fetch handler so its request scope learns the trace id the response carries. */
export function recordingTraceId(handler: (req: Request) => Promise<Response>) {
  return async (req: Request): Promise<Response> => {
    const res = await handler(req)
    const scope = requestScope.getStore()
    if (scope) scope.traceId = res.headers.get('x-trace-id')
    return res
  }
}

export function installLastResort(logger: Logger) {
  let count = 0
  const onRejection = (reason: unknown) => {
    count++
    const scope = requestScope.getStore()
    logger.error(PROCESS_FAULT_MESSAGE, {
      ...faultAttributes(reason),
      method: scope?.method,
      path: scope?.path,
      faults: count,
    }, scope?.traceId ? { traceId: scope.traceId } : undefined)
  }
  process.on('unhandledRejection', onRejection)
  return {
    /** Rejections survived since start. */
    count: () => count,
    uninstall: () => { process.off('unhandledRejection', onRejection) },
  }
}
