import { ATTR } from '../../shared/telemetry/attributes.ts'
import { inSpan } from '../../shared/telemetry/spans.ts'
import { countMessageTokens } from '../providers/tokens.ts'
import type { ChatMessage } from '../providers/types.ts'
import { readJsonBody } from '../body.ts'
import { errorText, type Gate } from '../gate.ts'
import { MESSAGES_DB, type ChatContext } from './context.ts'
import { toBudgetedHistory } from './history.ts'
import { validateChatInput, type ChatInput } from './validate.ts'

export interface Question extends ChatInput {
  /** The history that fits the token budget, then the question. */
  prompt: ChatMessage[]
  /** The prompt's tokens, as counted here (the rate limit's estimate). */
  estimated: number
}

type QuestionContext = Pick<ChatContext, 'config' | 'tracer' | 'logger' | 'bodyLimit' | 'messages'>

/** A question, read and checked: the prompt with its history, the tokens it is estimated at; or the refusal. */
export async function readQuestion(ctx: QuestionContext, gate: Gate, req: Request, userId: string): Promise<Question | Response> {
  if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) return gate.reject('unsupported_media_type', 'content-type must be application/json')
  const body = await readJsonBody(req, ctx.bodyLimit)
  if (!body.ok) return gate.reject(body.code, body.message)
  const input = validateChatInput(body.value, ctx.config)
  if (!input.ok) return gate.reject(input.code, input.message)
  const { session_id, content, model } = input.value
  gate.root.setAttributes({ [ATTR.conversationId]: session_id, [ATTR.requestModel]: model })
  let history: ChatMessage[]
  try {
    history = await readHistory(ctx, gate, session_id, userId)
  } catch (err) {
    ctx.logger.error('could not read the session history', { error: errorText(err) }, gate.root)
    return gate.reject('database_unavailable', 'could not read the conversation; nothing was sent to the model', { 'retry-after': '1' })
  }
  const prompt = [...history, { role: 'user' as const, content }]
  return { ...input.value, prompt, estimated: countMessageTokens(prompt) }
}

/** The session's recent messages that fit the history budget, in a `select messages` span that says what was kept. */
function readHistory(ctx: QuestionContext, gate: Gate, sessionId: string, userId: string): Promise<ChatMessage[]> {
  return inSpan(ctx.tracer, gate.root, 'select messages', { ...MESSAGES_DB, [ATTR.dbOperation]: 'select' }, async (span) => {
    const recent = await ctx.messages.history(sessionId, userId, ctx.config.historyMessages)
    const fitted = toBudgetedHistory(recent, ctx.config.historyTokenBudget)
    span.setAttributes({
      [ATTR.historySent]: fitted.kept.length,
      [ATTR.historyDropped]: recent.length - fitted.kept.length,
      [ATTR.historyTokens]: fitted.tokens,
    })
    return fitted.kept
  })
}
