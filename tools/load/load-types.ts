// What a load run takes and what it reports (tools/load/run.ts).
import type { ChatEngine, ChatObserver } from './engine.ts'
import type { Quantiles } from './quantiles.ts'
import type { ReadersSummary } from './readers.ts'
import type { ProcSample } from './proc.ts'

export interface LoadOptions {
  /** The project's base URL. */
  url: string
  streams: number
  durationMs: number
  rampMs: number
  /** The prompt every chat sends (each with a distinct first line). */
  prompt: string
  maxTokens?: number
  /** The bearer token of client i. */
  token: (client: number) => string
  runId: string
  engine: ChatEngine
  /** After the duration, wait this long for open chats to end before aborting them (default 0). */
  drainMs?: number
  /** Pause before a client chats again after a chat that failed without any frame (default 500 ms, jittered). */
  errorPauseMs?: number
  /** Keep every chat's outcome and text (chaos scenarios compare them with the database). */
  keepChats?: boolean
  /** A server process on this machine to sample (CPU%, RSS) every second. */
  serverPid?: number
  onProgress?: (p: Progress) => void
  progressIntervalMs?: number
  /** Operators polling the dashboard's API while the chats run (needs `operatorToken`). */
  dashboardReaders?: number
  operatorToken?: string
}

export interface Progress {
  elapsedS: number
  durationS: number
  open: number
  done: number
  errors: number
  framesPerS: number
  lagP99Ms: number
}

export type ChatOutcome = 'done' | 'error' | 'cut_at_end'

export interface ChatRecord {
  client: number
  session_id: string
  trace_id: string | null
  outcome: ChatOutcome
  code?: string
  text: string
  frames: number
  lost: number
  repeated: number
  retries: number
  resumes: number
  /** The chat had received at least one delta when it ended. */
  started_streaming: boolean
  /** ms from the start of the run. */
  started_at: number
  first_delta_at: number | null
  ended_at: number
}

export interface LoadSummary {
  run_id: string
  /** performance.now() when the run started: chat records' times count from here. */
  clock_start: number
  url: string
  streams: number
  duration_s: number
  ramp_s: number
  chats: { started: number; done: number; failed: number; cut_at_end: number }
  ttfb_ms: Quantiles
  duration_ms: Quantiles
  /** Delta to delta inside one chat, for deltas that arrived after the ramp. */
  gap_ms: Quantiles
  frames: number
  /** output_tokens summed over finished chats (the server's count). */
  tokens: number
  /** Deltas per second between the end of the ramp and the end of the run. */
  frames_per_s: number
  errors: Record<string, number>
  /** Errors of chats that had already streamed at least one delta, by code. */
  errors_mid_stream: Record<string, number>
  lost_frames: number
  repeated_frames: number
  retries: number
  resumes: number
  restarts: number
  tool: { cpu_percent: number; event_loop_lag_ms: { p50: number; p99: number; max: number }; rss_mib: number }
  server?: { pid: number; cpu_percent: number; rss_mib: { first: number; last: number; max: number }; samples: ProcSample[] }
  dashboard?: ReadersSummary
  chat_records?: ChatRecord[]
}
