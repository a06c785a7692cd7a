// How the dashboard gets its settings: the Node entry that mounts it hands them over once, before it
// loads the built handler (server/dashboard.ts), and the dashboard's server code reads them back.
// The built handler bundles its own copy of this module, so a module variable would not be the one
// the entry set: the hand-over goes through one slot on globalThis, keyed by a registered symbol.
import type { DashboardConfig } from './dashboard-config.ts'

const SLOT = Symbol.for('streamscope.dashboard-config')
const slot = globalThis as { [SLOT]?: DashboardConfig }

export function provideDashboardConfig(config: DashboardConfig): void {
  slot[SLOT] = config
}

export function dashboardConfig(): DashboardConfig {
  const config = slot[SLOT]
  if (!config) throw new Error('the dashboard has no configuration: the Node entry hands it over with loadDashboard(config) (server/dashboard.ts)')
  return config
}
