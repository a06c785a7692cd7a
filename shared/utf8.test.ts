import { describe, expect, it } from 'vitest'
import { utf8Length } from './utf8.ts'

describe('utf8Length', () => {
  it('matches TextEncoder for ASCII, 2-, 3- and 4-byte characters and lone surrogates', () => {
    const samples = ['', 'plain ascii', 'é', 'naïve café', '€ 12', '日本語のテキスト', '🙂', 'a🙂b👍🏽c', '\ud800', 'x\udc00y', '\ud83d', 'end\ud83d']
    for (const s of samples) expect(utf8Length(s), JSON.stringify(s)).toBe(new TextEncoder().encode(s).byteLength)
  })
})

describe('deltaFrameBytes', () => {
  it('is the UTF-8 size of the formatted frame, escapes and all', async () => {
    const { deltaFrameBytes, formatDelta } = await import('./sse/frames.ts')
    const deltas = ['', 'word', ' the', 'quote " and \\ backslash', 'tab\tnewline\ncr\r', '\u0000\u001f', 'é', '日本', '🙂', '\ud800 lone', '\u2028\u2029']
    for (const delta of deltas) {
      for (const seq of [1, 9, 10, 999, 123456]) {
        const f = { trace_id: '0123456789abcdef0123456789abcdef', seq, delta }
        expect(deltaFrameBytes(f), `${JSON.stringify(delta)} seq ${seq}`).toBe(new TextEncoder().encode(formatDelta(f)).byteLength)
      }
    }
  })
})
