/**
 * Characters per input sent to the embed function: well under its per-input limit
 * (EMBED_MAX_INPUT_CHARS, 32 000 by default). The server cuts each input into ~2 000-character
 * chunks itself (one row per chunk), so this only keeps a whole file inside the request limits.
 */
export const INPUT_CHARS = 8_000

/**
 * Packs a file's paragraphs into inputs of at most `maxChars`, in order, cutting a paragraph only
 * when it is longer than that (at the last whitespace, else hard). No text but the whitespace at
 * the cuts is lost, so the chunks the server makes are those of the whole file.
 */
export function splitForEmbedding(text: string, maxChars = INPUT_CHARS): string[] {
  const out: string[] = []
  let current = ''
  const flush = () => {
    if (current.trim() !== '') out.push(current.trim())
    current = ''
  }
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    if (paragraph.trim() === '') continue
    const joined = current === '' ? paragraph : `${current}\n\n${paragraph}`
    if (joined.length <= maxChars) {
      current = joined
      continue
    }
    flush()
    let rest = paragraph
    while (rest.length > maxChars) {
      const space = rest.lastIndexOf(' ', maxChars)
      let cut = space > maxChars / 2 ? space : maxChars
      // Never between the halves of a surrogate pair.
      const code = rest.charCodeAt(cut - 1)
      if (code >= 0xd800 && code <= 0xdbff) cut--
      current = rest.slice(0, cut)
      flush()
      rest = rest.slice(cut)
    }
    current = rest
  }
  flush()
  return out
}
