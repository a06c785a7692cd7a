// Deltas are numbered 1, 2, 3… by the server (the SSE `id`). After a reconnection the server may
// replay frames the client already has, and a broken proxy could drop some: the client keeps only
// the next expected number, so the text it builds has each delta once and in order.

export type SeqVerdict = 'next' | 'duplicate' | 'gap'

/** `last` is the highest seq accepted so far (0 before the first delta). */
export function toSeqVerdict(last: number, seq: number): SeqVerdict {
  if (seq === last + 1) return 'next'
  if (seq <= last) return 'duplicate'
  return 'gap'
}
