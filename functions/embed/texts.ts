import { ATTR } from '../../shared/telemetry/attributes.ts'
import { inSpan } from '../../shared/telemetry/spans.ts'
import { readJsonBody } from '../body.ts'
import { errorText, type Gate } from '../gate.ts'
import { chunkText } from './chunk.ts'
import { EMBED_DB, type EmbedContext } from './context.ts'
import { validateEmbedInput, type EmbedInput } from './validate.ts'

/** The request's body, read and checked; or the refusal. */
export async function readEmbedInput(ctx: Pick<EmbedContext, 'maxBodyBytes' | 'limits'>, gate: Gate, req: Request): Promise<EmbedInput | Response> {
  if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) {
    return gate.reject('unsupported_media_type', 'content-type must be application/json')
  }
  const body = await readJsonBody(req, ctx.maxBodyBytes)
  if (!body.ok) return gate.reject(body.code, body.message)
  const input = validateEmbedInput(body.value, ctx.limits)
  if (!input.ok) return gate.reject(input.code, input.message)
  return input.value
}

/** What to embed: the caller's message, or the chunks of the caller's texts. */
export interface EmbedTexts {
  texts: string[]
  message?: { id: string; content: string }
}

type TextsContext = Pick<EmbedContext, 'tracer' | 'logger' | 'store' | 'config' | 'chunkChars'>

export async function toEmbedTexts(ctx: TextsContext, gate: Gate, input: EmbedInput, userId: string): Promise<EmbedTexts | Response> {
  if (input.kind === 'document') return { texts: input.inputs.flatMap((text) => chunkText(text, ctx.chunkChars)) }
  const { root } = gate
  let message: EmbedTexts['message']
  try {
    message = await inSpan(ctx.tracer, root, 'select messages', { ...EMBED_DB, [ATTR.dbOperation]: 'select', [ATTR.dbCollection]: 'messages' },
      () => ctx.store.findMessage(input.message_id, userId))
  } catch (err) {
    ctx.logger.error('could not read the message', { error: errorText(err) }, root)
    return gate.reject('database_unavailable', 'could not read the message; retry', { 'retry-after': '1' })
  }
  // Someone else's message is answered exactly like a missing one.
  if (!message) return gate.reject('not_found', `no message ${input.message_id}`)
  if (message.content.trim() === '') return gate.reject('invalid_request', 'the message has no text to embed')
  const max = ctx.config.embed.maxInputChars
  if (message.content.length > max) return gate.reject('content_too_large', `the message exceeds ${max} characters`)
  return { texts: [message.content], message }
}
