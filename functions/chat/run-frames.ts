import type { Span } from '@opentelemetry/api'
import { deltaFrameBytes, formatDelta } from '../../shared/sse/frames.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { utf8Length } from '../../shared/utf8.ts'

/** Where a run keeps its frames for resume in this process; `reserve` says no when a cap would be passed. */
export interface Retention {
  reserve(bytes: number): boolean
  release(): void
}

/**
 * The frames of one run in this process. deltas[i] is the text of the frame of seq
 * dropped + i + 1; a frame is formatted when a reader takes it, so what is held for resume is
 * only the model's text (which the run's answer text references anyway). Without retention
 * (none given, or a cap was passed) frames are let go once taken.
 */
export function createRunFrames(traceId: string, root: Span, retention: Retention | undefined) {
  const deltas: string[] = []
  let dropped = 0
  let bytes = 0
  let terminal: string | undefined

  function count(size: number, seq: number) {
    bytes += size
    if (retention && !retention.reserve(size)) {
      retention.release()
      retention = undefined
      root.addEvent('resume.buffer_dropped', { [ATTR.frames]: seq })
    }
  }

  return {
    bytes: () => bytes,
    terminal: () => terminal,
    resumable: () => retention !== undefined,
    keep(seq: number, delta: string) {
      count(deltaFrameBytes({ trace_id: traceId, seq, delta }), seq)
      deltas.push(delta)
    },
    keepTerminal(frame: string, seq: number) {
      terminal = frame
      count(utf8Length(frame), seq)
    },
    /** The frame of `at` if produced (and still held). */
    take(at: number): string | undefined {
      const delta = deltas[at - dropped - 1]
      if (delta === undefined) return undefined
      if (!retention) {
        deltas.splice(0, at - dropped)
        dropped = at
      }
      return formatDelta({ trace_id: traceId, seq: at, delta })
    },
  }
}

export type RunFrames = ReturnType<typeof createRunFrames>
