import { countMessageTokens } from '../providers/tokens.ts'
import type { ChatMessage } from '../providers/types.ts'

const PRIMING = countMessageTokens([])

/**
 * The newest messages (oldest first, as the model reads them) whose tokens fit `budget`.
 * Dropping stops at the first message that does not fit: the model always sees an
 * unbroken recent stretch of the conversation, never one with a hole in it.
 */
export function toBudgetedHistory(history: ChatMessage[], budget: number): { kept: ChatMessage[]; tokens: number } {
  let tokens = 0
  let first = history.length
  for (let i = history.length - 1; i >= 0; i--) {
    const cost = countMessageTokens([history[i]]) - PRIMING
    if (tokens + cost > budget) break
    tokens += cost
    first = i
  }
  return { kept: history.slice(first), tokens }
}
