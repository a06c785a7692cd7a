import { invalidateAll } from '$app/navigation'

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'stopped' | 'problem'

/**
 * Follows /api/live (Server-Sent Events) and reloads the page's data when the server says
 * new telemetry arrived. One reload at a time; changes during a reload trigger one more.
 * A hidden tab waits until it is visible again.
 */
export class LiveUpdates {
  state = $state<LiveState>('connecting')
  problem = $state<string | null>(null)
  updatedAt = $state<number | null>(null)

  #source: EventSource | undefined
  #refreshing = false
  #pending = false

  start(): () => void {
    const source = new EventSource('/api/live')
    this.#source = source
    source.onopen = () => { this.state = 'live'; this.problem = null }
    source.onerror = () => {
      // CLOSED: the server refused the stream (logged out, expired) or is gone for good.
      this.state = source.readyState === EventSource.CLOSED ? 'stopped' : 'reconnecting'
    }
    source.addEventListener('change', () => { this.state = 'live'; this.problem = null; void this.refresh() })
    source.addEventListener('problem', (e) => { this.state = 'problem'; this.problem = (e as MessageEvent).data })
    // The session ended: a reload sends the operator to the login page.
    source.addEventListener('expired', () => { source.close(); location.reload() })
    const onVisible = () => { if (!document.hidden && this.#pending) void this.refresh() }
    document.addEventListener('visibilitychange', onVisible)
    return () => {
      document.removeEventListener('visibilitychange', onVisible)
      source.close()
      this.#source = undefined
    }
  }

  async refresh(): Promise<void> {
    if (this.#refreshing || document.hidden) {
      this.#pending = true
      return
    }
    this.#refreshing = true
    this.#pending = false
    try {
      await invalidateAll()
      this.updatedAt = Date.now()
    } finally {
      this.#refreshing = false
      if (this.#pending) void this.refresh()
    }
  }
}
