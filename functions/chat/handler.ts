import { errorResponse } from '../../shared/http/errors.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { extractContext } from '../../shared/telemetry/spans.ts'
import { authenticate, openGate } from '../gate.ts'
import { askModel } from './ask.ts'
import { createChatContext, type ChatContext, type ChatDeps, type Transport } from './context.ts'
import { locateStream, rootOf, toResumeRequest, type Located } from './resume.ts'
import { answerResumeRequest } from './resume-request.ts'

// The chat function's parts: context.ts (what they share), question.ts (the body and the
// history), ask.ts (admit and store the question), answer-stream.ts (the answer's run and its
// bookkeeping), repeat.ts (a repeated Idempotency-Key), resume-request.ts (Last-Event-ID).
export type { ChatDeps, Transport } from './context.ts'
export { sseHeaders } from './context.ts'

export const CHAT_ROUTE = '/functions/v1/chat'

const RUN_ID = /^[\w.:-]{1,64}$/

/** POST /functions/v1/chat: authenticates, limits, stores the question, streams the answer (or resumes one). */
export function createChatHandler(deps: ChatDeps): (req: Request) => Promise<Response> {
  const ctx = createChatContext(deps)
  return (req) => handleChat(ctx, req)
}

async function chooseTransport(ctx: ChatContext, headers: Headers): Promise<Transport> {
  if (acceptsJsonOnly(headers.get('accept'))) return 'http'
  const flag = ctx.config.chatTransportOverride || await ctx.flags.get('chat_transport', 'sse')
  return flag === 'http' ? 'http' : 'sse'
}

async function handleChat(ctx: ChatContext, req: Request): Promise<Response> {
  const startedAt = performance.now()
  const sub = subPathOf(req.url)
  if (sub === '/beacon') return ctx.beacon(req)
  if (sub) return errorResponse('not_found', `no route ${sub} in the chat function`, crypto.randomUUID().replaceAll('-', ''))
  const resume = toResumeRequest(req.headers)
  const target = resume.ok ? resume.resume : undefined
  const runId = req.headers.get('x-streamscope-run-id')
  const transport: Transport = target ? 'sse' : await chooseTransport(ctx, req.headers)
  let located: Promise<Located | undefined> | undefined
  const locate = (userId: string) => located ??= locateStream(ctx.buffer, ctx.log, target!, userId)
  const gate = openGate({
    tracer: ctx.tracer, logger: ctx.logger, fn: 'chat', route: CHAT_ROUTE, req, parent: extractContext(req.headers),
    owners: ctx.owners, startTime: startedAt,
    join: target ? joinOwnStream(locate) : undefined,
    attributes: { [ATTR.transport]: transport, ...(runId && RUN_ID.test(runId) ? { [ATTR.runId]: runId } : {}) },
    headers: { 'x-chat-transport': transport },
    ended: () => ctx.later(Promise.resolve()),
  })
  if (req.method !== 'POST') return gate.reject('method_not_allowed', 'use POST', { allow: 'POST' })
  const userId = await authenticate(gate, ctx.tracer, ctx.verify, req)
  if (userId instanceof Response) return userId
  if (!resume.ok) return gate.reject('invalid_request', resume.message)
  if (target) return answerResumeRequest(ctx, gate, target, await locate(userId).catch(() => undefined), userId)
  return askModel(ctx, gate, req, userId, transport, startedAt)
}

/** A resume of its own stream (held here or logged by another isolate) joins that stream's trace. */
const joinOwnStream = (locate: (userId: string) => Promise<Located | undefined>) => async (userId: string) => {
  const found = await locate(userId)
  return found && found.userId === userId ? rootOf(found) : undefined
}

/** `Accept: application/json` without text/event-stream asks for the one-document answer. */
export function acceptsJsonOnly(accept: string | null): boolean {
  if (!accept) return false
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase())
  return types.includes('application/json') && !types.includes('text/event-stream')
}

/** What follows `/chat` in the path ('' for the chat itself; Supabase passes sub-paths through). */
export function subPathOf(url: string): string {
  return new URL(url).pathname.match(/\/chat(\/.*)?$/)?.[1]?.replace(/\/+$/, '') ?? ''
}
