export type Tone = 'ok' | 'warn' | 'bad' | 'neutral'

export interface Outcome {
  label: string
  tone: Tone
}

interface StreamFacts {
  end_reason: string | null
  error_type: string | null
  status_code: string
  http_status: number | null
}

/**
 * How a stream ended, in a word and a colour. Rejections (4xx) and client hang-ups are
 * warnings: the service behaved; errors and 5xx are ours.
 */
export function streamOutcome(s: StreamFacts): Outcome {
  if (s.end_reason === 'done') return { label: 'done', tone: 'ok' }
  if (s.end_reason === 'lost') return { label: 'lost', tone: 'bad' }
  if (s.end_reason === 'client_abort' || s.error_type === 'client_abort') return { label: 'client abort', tone: 'warn' }
  const label = s.error_type ?? s.end_reason ?? (s.status_code === 'unset' ? 'ok' : s.status_code)
  if (s.status_code === 'error' || s.end_reason === 'error' || (s.http_status ?? 0) >= 500) return { label, tone: 'bad' }
  if ((s.http_status ?? 0) >= 400 || s.error_type) return { label, tone: 'warn' }
  return { label, tone: s.status_code === 'ok' ? 'ok' : 'neutral' }
}
