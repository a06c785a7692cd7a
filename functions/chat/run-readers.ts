import type { Span } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { RunReader } from './source.ts'

export interface ReadersOptions {
  graceMs: number
  root: Span
  /** A reader's leaving need not cut the run: it can be resumed. */
  detachable(): boolean
  ended(): boolean
  read(): Promise<void>
  cut(): Promise<void>
}

/**
 * Who reads the run: at most one connection; a newer one evicts the older. When the reader
 * leaves a resumable run, the run is read on without one (`read` until it ended or a reader
 * came back) and cut after the grace; otherwise it is cut at once.
 */
export function createReaders(o: ReadersOptions) {
  let reader: RunReader | undefined
  let grace: ReturnType<typeof setTimeout> | undefined
  let resumes = 0
  const unread = async () => {
    while (!o.ended() && !reader) await o.read()
  }
  return {
    resumes: () => resumes,
    progress: () => reader?.progress(),
    stop: () => clearTimeout(grace),
    attach(next: RunReader, resumed = false) {
      clearTimeout(grace)
      grace = undefined
      if (resumed) resumes++
      const previous = reader
      reader = next
      if (previous && previous !== next) previous.evict()
    },
    release(r: RunReader) {
      if (reader === r) reader = undefined
    },
    /** The reader's connection went away before the end; resolves once a cut (if any, now) is stored. */
    async detach(r: RunReader): Promise<void> {
      if (reader !== r) return
      reader = undefined
      if (o.ended()) return
      if (!o.detachable() || o.graceMs <= 0) return o.cut()
      o.root.addEvent('client.disconnected', { [ATTR.resumeGraceMs]: o.graceMs })
      grace = setTimeout(() => void o.cut(), o.graceMs)
      void unread()
    },
  }
}

export type Readers = ReturnType<typeof createReaders>
