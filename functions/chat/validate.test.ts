import { describe, expect, it } from 'vitest'
import { isWellFormed } from '../../shared/well-formed.ts'
import { validateChatInput, type ChatLimits } from './validate.ts'

const LIMITS: ChatLimits = { maxContentChars: 100, maxOutputTokens: 50, defaultModel: 'sim-1', modelAllowlist: ['sim-1', 'sim-2'] }
const SESSION = '0b7c3c8e-4a3f-4c55-9f0e-2f5d1a6b7c8d'
/** What JSON.parse makes of a "\ud800" escape: a string holding a lone surrogate. */
const LONE = JSON.parse('"\\ud800"') as string

describe('validateChatInput', () => {
  it('accepts content in any script, emoji included', () => {
    expect(validateChatInput({ session_id: SESSION, content: 'naïve 日本 🙂👍🏽' }, LIMITS)).toEqual({
      ok: true, value: { session_id: SESSION, content: 'naïve 日本 🙂👍🏽', model: 'sim-1', max_tokens: 50 },
    })
  })

  it('refuses content Postgres would refuse or store altered: a NUL, a lone surrogate', () => {
    for (const content of ['a\u0000b', `a${LONE}b`, `🙂${'\udc00'}`, `end${'\ud83d'}`]) {
      expect(validateChatInput({ session_id: SESSION, content }, LIMITS), JSON.stringify(content)).toEqual({
        ok: false, code: 'invalid_request', message: expect.stringMatching(/^content must (not contain NUL|be well-formed Unicode)/),
      })
    }
  })

  it('never quotes a NUL, a lone surrogate or half a pair of an unknown model', () => {
    for (const model of [`x${LONE}`, 'x\u0000', `${'m'.repeat(63)}🙂tail`]) {
      const r = validateChatInput({ session_id: SESSION, content: 'hi', model }, LIMITS)
      expect(r).toMatchObject({ ok: false, code: 'unknown_model' })
      const message = (r as { message: string }).message
      expect(message.includes('\u0000') || !isWellFormed(message), message).toBe(false)
    }
  })
})
