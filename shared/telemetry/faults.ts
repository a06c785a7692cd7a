/**
 * The log line of a failure nothing else handled (an unhandled promise rejection), which the
 * process survived. The health page counts these lines; a partial index on telemetry.logs
 * (migration `…_process_faults.sql`) is defined on exactly this message, so keep them equal.
 */
export const PROCESS_FAULT_MESSAGE = 'unhandled rejection; the server kept serving'

/** What the fault's log line says of the rejection. */
export function faultAttributes(reason: unknown): Record<string, unknown> {
  const err = reason instanceof Error ? reason : undefined
  return {
    error: err ? err.message : String(reason),
    error_type: err?.name ?? typeof reason,
    code: (reason as { code?: unknown } | null)?.code,
    stack: err?.stack,
  }
}
