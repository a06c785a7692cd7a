import { describe, expect, it } from 'vitest'
import { utf8Length } from './utf8.ts'

describe('utf8Length', () => {
  it('matches TextEncoder for ASCII, 2-, 3- and 4-byte characters and lone surrogates', () => {
    const samples = ['', 'plain ascii', 'é', 'naïve café', '€ 12', '日本語のテキスト', '🙂', 'a🙂b👍🏽c', '\ud800', 'x\udc00y', '\ud83d', 'end\ud83d']
    for (const s of samples) expect(utf8Length(s), JSON.stringify(s)).toBe(new TextEncoder().encode(s).byteLength)
  })
})
