// Axis tick labels that never repeat: as many decimals as the distance between two ticks needs.

/** The distance between consecutive ticks (chart.js hands a tick callback every tick of its axis). */
export function tickStep(ticks: readonly { value: number }[]): number | undefined {
  const step = ticks.length > 1 ? Math.abs(ticks[1]!.value - ticks[0]!.value) : 0
  return step > 0 && Number.isFinite(step) ? step : undefined
}

/** Decimals that show `step` exactly: 0.05 → 2, 0.1 → 1, 2 → 0. */
export function stepDecimals(step: number): number {
  const text = Number(step.toPrecision(6)).toString()
  if (text.includes('e')) return Math.max(0, Math.ceil(-Math.log10(step)))
  const dot = text.indexOf('.')
  return dot < 0 ? 0 : text.length - dot - 1
}

/** A number on an axis whose ticks are `step` apart; without a step (a tooltip), by its size. */
export function formatTick(value: number, step?: number): string {
  const decimals = step !== undefined ? stepDecimals(step) : value < 1 ? 2 : value < 10 ? 1 : 0
  return value.toFixed(Math.min(decimals, 6))
}
