// What the stack and an isolate's runtime (edge-runtime.ts, under Deno) agree on: imported by both.

/** The reasons edge-runtime gives a `beforeunload` event (`detail.reason`) that the stack produces. */
export type ShutdownReason = 'wall_clock' | 'early_drop' | 'termination'

/** Printed on stderr by the isolate right before it exits, followed by the reason. */
export const SHUTDOWN_PREFIX = 'edge-runtime: shutdown '

/** How long a terminated isolate may spend on waitUntil work after `beforeunload`, in ms. */
export const GRACE_ENV = 'STREAMSCOPE_EDGE_GRACE_MS'

/** Commands, one per line on the isolate's stdin. */
export const command = {
  beforeunload: (reason: ShutdownReason) => `beforeunload ${reason}\n`,
  exit: (reason: ShutdownReason) => `exit ${reason}\n`,
  dropWhenIdle: () => 'drop-when-idle\n',
}
