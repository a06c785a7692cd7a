import { describe, expect, it } from 'vitest'
import { countMessageTokens } from '../providers/tokens.ts'
import type { ChatMessage } from '../providers/types.ts'
import { toBudgetedHistory } from './history.ts'

const msg = (role: ChatMessage['role'], words: number): ChatMessage => ({ role, content: Array.from({ length: words }, (_, i) => `word${i}`).join(' ') })
const cost = (m: ChatMessage) => countMessageTokens([m]) - countMessageTokens([])

describe('toBudgetedHistory', () => {
  const history = [msg('user', 50), msg('assistant', 200), msg('user', 10), msg('assistant', 30)]

  it('keeps everything that fits', () => {
    const total = history.reduce((n, m) => n + cost(m), 0)
    expect(toBudgetedHistory(history, total)).toEqual({ kept: history, tokens: total })
  })

  it('drops the oldest first and never leaves a hole', () => {
    const budget = cost(history[3]) + cost(history[2]) + cost(history[1]) - 1
    const { kept, tokens } = toBudgetedHistory(history, budget)
    // history[1] no longer fits; history[0] would, but keeping it would skip a message.
    expect(kept).toEqual(history.slice(2))
    expect(tokens).toBe(cost(history[2]) + cost(history[3]))
    expect(tokens).toBeLessThanOrEqual(budget)
  })

  it('keeps nothing with a zero budget or no history', () => {
    expect(toBudgetedHistory(history, 0).kept).toEqual([])
    expect(toBudgetedHistory([], 100)).toEqual({ kept: [], tokens: 0 })
  })
})
