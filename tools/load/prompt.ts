import { countTokens } from '../../functions/providers/tokens.ts'

// Varied enough that the tokenizer does not collapse it, plain enough to read in a trace.
const SENTENCE =
  'Summarise the incident timeline below and list every service whose latency rose above its ' +
  'budget, with the first minute it did so and the change that was deployed just before. '

/**
 * A prompt of about `tokens` tokens (o200k, what the server counts with): whole sentences until the
 * budget is met, then trimmed word by word, so it lands within a few tokens of the target.
 */
export function buildPrompt(tokens: number): string {
  if (tokens <= 0) return 'hello'
  const perSentence = countTokens(SENTENCE)
  let text = SENTENCE.repeat(Math.max(1, Math.floor(tokens / perSentence)))
  while (countTokens(text) < tokens) text += SENTENCE
  const words = text.trimEnd().split(' ')
  // Binary search on the word count: countTokens on 4,000-token text costs about a millisecond.
  let lo = 1
  let hi = words.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (countTokens(words.slice(0, mid).join(' ')) >= tokens) hi = mid
    else lo = mid + 1
  }
  return words.slice(0, lo).join(' ')
}

/** One request's content: the shared prompt with a distinct first line, so answers differ. */
export const promptFor = (base: string, client: number, chat: number) => `[client ${client} chat ${chat}] ${base}`
