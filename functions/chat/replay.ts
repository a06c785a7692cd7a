import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Gate } from '../gate.ts'
import type { ChatContext } from './context.ts'
import { answerResume } from './resume.ts'
import type { StreamSource } from './source.ts'
import type { FollowOptions } from './stream-follow.ts'

/** How this request follows a stream another isolate logs: cut, it records the cut on its own span. */
export function followOptions(ctx: Pick<ChatContext, 'log' | 'config' | 'logger'>, gate: Pick<Gate, 'root'>): Omit<FollowOptions, 'stream' | 'fromSeq'> {
  return {
    store: ctx.log!, pollMs: ctx.config.resumeLog.pollMs, logger: ctx.logger, span: gate.root,
    onCut: () => gate.root.setAttributes({ [ATTR.endReason]: 'cut', [ATTR.errorType]: 'stream_cut' }),
  }
}

/** An existing stream's frames after `fromSeq`, as this request's SSE answer (a resume, or a repeat from 0). */
export function replay(ctx: Pick<ChatContext, 'tracer' | 'heartbeatMs' | 'streamHeaders' | 'later'>, gate: Pick<Gate, 'root' | 'headers'>, run: StreamSource, fromSeq: number): Response {
  return answerResume({
    tracer: ctx.tracer, root: gate.root, run, fromSeq, heartbeatMs: ctx.heartbeatMs,
    headers: { ...ctx.streamHeaders, ...gate.headers },
    onEnd: () => ctx.later(Promise.resolve()),
  })
}
