import { formatComment } from '../../shared/sse/frames.ts'

export const HEARTBEAT = new TextEncoder().encode(formatComment('heartbeat'))

/**
 * Waits for `work` at most `ms`: true if it settled first, false if the time ran out
 * (the work keeps running; the caller waits on the same promise again later).
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeUp = new Promise<false>((resolve) => { timer = setTimeout(resolve, ms, false) })
  try {
    return await Promise.race([work.then(() => true, () => true), timeUp])
  } finally {
    clearTimeout(timer)
  }
}
