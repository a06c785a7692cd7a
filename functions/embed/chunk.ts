/**
 * Characters per chunk: ~500 tokens of English, well inside every embedding model's
 * input limit (8191 tokens for OpenAI's), and small enough that one chunk is about one
 * topic, which is what similarity search retrieves.
 */
export const CHUNK_CHARS = 2_000

const PARAGRAPH = /\n[ \t]*\n\s*/g
// A sentence ends at . ! ? (or their CJK forms) followed by whitespace; the CJK
// full stops need no space after them.
const SENTENCE = /[.!?…](?=["')\]]*\s)["')\]]*\s+|[。！？]\s*/g
const SPACE = /\s+/g

/** Where the last match of `re` inside text[from, to) ends, or -1. */
function lastBreak(text: string, re: RegExp, from: number, to: number): number {
  const window = text.slice(from, to)
  let end = -1
  for (const m of window.matchAll(re)) {
    const at = from + m.index! + m[0].length
    // A break at the very start would make an empty chunk.
    if (m.index! > 0 && at <= to) end = at
  }
  return end
}

/**
 * Splits a text into chunks of at most `maxChars`, preferring to cut between
 * paragraphs, then between sentences, then between words, and only as a last
 * resort inside a word (never inside a surrogate pair). Chunks are trimmed slices
 * of the text, in order; whitespace at the cuts is all that is dropped.
 */
export function chunkText(text: string, maxChars = CHUNK_CHARS): string[] {
  if (maxChars < 2) throw new RangeError('maxChars must be at least 2')
  const chunks: string[] = []
  let start = 0
  while (start < text.length) {
    while (start < text.length && /\s/.test(text[start])) start++
    if (start >= text.length) break
    let end: number
    if (text.length - start <= maxChars) {
      end = text.length
    } else {
      const limit = start + maxChars
      end = lastBreak(text, PARAGRAPH, start, limit)
      if (end < 0) end = lastBreak(text, SENTENCE, start, limit)
      if (end < 0) end = lastBreak(text, SPACE, start, limit)
      if (end < 0) {
        end = limit
        const code = text.charCodeAt(end - 1)
        if (code >= 0xd800 && code <= 0xdbff) end-- // keep the pair together
      }
    }
    const chunk = text.slice(start, end).trim()
    if (chunk) chunks.push(chunk)
    start = end
  }
  return chunks
}
