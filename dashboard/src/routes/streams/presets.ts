/**
 * One-click views of the explorer for an incident: explorer query strings, shown beside the
 * saved views (tests/dashboard/explorer.test.ts checks that each one parses).
 */
export const PRESETS = [
  { id: 'slowest-ttfb', name: 'Slowest TTFB', query: 'function=chat&range=24h&sort=ttfb' },
  { id: 'errors-last-hour', name: 'Errors in the last hour', query: 'range=1h&status=error' },
  { id: 'most-expensive', name: 'Most expensive', query: 'range=24h&sort=cost' },
] as const
