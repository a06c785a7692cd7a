import { countTokens as countO200k } from 'gpt-tokenizer'
import type { ChatMessage } from './types.ts'

// o200k_base (GPT-4o family). For other models it is an estimate, which is what
// callers mark it as when the provider reports no usage.

export const countTokens = (text: string): number => countO200k(text)

/** Chat-format overhead per message, as OpenAI counts it (role + separators). */
const PER_MESSAGE = 3

export function countMessageTokens(messages: ChatMessage[]): number {
  let n = 3 // every reply is primed with <|start|>assistant<|message|>
  for (const m of messages) n += PER_MESSAGE + countTokens(m.content)
  return n
}
