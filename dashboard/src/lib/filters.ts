// Relative, not $shared: server code outside SvelteKit (tests, bench) imports this module too.
import { textProblem } from '../../../shared/well-formed.ts'
import type { Parsed } from './range.ts'

/** How a request ended, as telemetry.request_status() and the rollups name it. */
export const STATUSES = ['ok', 'error', 'client_error', 'aborted'] as const
export type RequestStatus = (typeof STATUSES)[number]

export const STATUS_LABELS: Record<RequestStatus, string> = {
  ok: 'ok', error: 'error (5xx)', client_error: 'rejected (4xx)', aborted: 'client abort',
}

export const FUNCTIONS = ['chat', 'embed'] as const

/**
 * A stream's `end_reason` as its writers store it: the chat run (functions/chat/run-record.ts),
 * the runtime's unload (shutdown), a resume whose followed stream was cut under it
 * (functions/chat/replay.ts, error code stream_cut), and a request whose isolate died
 * (telemetry.lost_requests). Rejected requests and embeds have none.
 */
export const END_REASONS = ['done', 'error', 'client_abort', 'timeout', 'shutdown', 'cut', 'lost'] as const

export const END_REASON_LABELS: Record<(typeof END_REASONS)[number], string> = {
  done: 'done', error: 'error', client_abort: 'client abort', timeout: 'timeout', shutdown: 'shutdown', cut: 'cut (resume)', lost: 'lost (isolate died)',
}

type Spec =
  | { kind: 'choice'; label: string; values: readonly string[]; labels: Record<string, string> }
  | { kind: 'text'; label: string; placeholder: string }
  | { kind: 'number'; label: string; placeholder: string; min: number; max: number; integer?: true }
  | { kind: 'flag'; label: string }

const HOUR_MS = 3_600_000

/**
 * Every filter, declared once: the parser, the explorer's SQL (explorer.ts keys its conditions
 * by these names) and the filter bar follow from it. `q` is the full-text search.
 */
export const FILTER_SPECS = {
  function: { kind: 'choice', label: 'Function', values: FUNCTIONS, labels: { chat: 'chat', embed: 'embed' } },
  model: { kind: 'text', label: 'Model', placeholder: 'all' },
  status: { kind: 'choice', label: 'Status', values: STATUSES, labels: STATUS_LABELS },
  user: { kind: 'text', label: 'User', placeholder: 'any user id' },
  end_reason: { kind: 'choice', label: 'End reason', values: END_REASONS, labels: END_REASON_LABELS },
  error_code: { kind: 'text', label: 'Error code', placeholder: 'any' },
  http_status: { kind: 'number', label: 'HTTP status', placeholder: 'any', min: 100, max: 599, integer: true },
  min_ttfb_ms: { kind: 'number', label: 'TTFB at least (ms)', placeholder: '0', min: 0, max: HOUR_MS },
  min_duration_ms: { kind: 'number', label: 'Duration at least (ms)', placeholder: '0', min: 0, max: 24 * HOUR_MS },
  session: { kind: 'text', label: 'Session', placeholder: 'any session id' },
  q: { kind: 'text', label: 'Prompt or answer', placeholder: 'words, "a phrase", -not' },
  stalled: { kind: 'flag', label: 'Stalled' },
  resumed: { kind: 'flag', label: 'Resumed' },
} as const satisfies Record<string, Spec>

type Specs = typeof FILTER_SPECS
export type FilterKey = keyof Specs
type ValueOf<S> = S extends { kind: 'number' } ? number
  : S extends { kind: 'flag' } ? true
  : S extends { kind: 'choice'; values: readonly (infer V)[] } ? V
  : string

/** The explorer's filters; absent = all. */
export type StreamFilters = { -readonly [K in FilterKey]?: ValueOf<Specs[K]> }

/** The filters that apply to every chart and table of every page (the rollups hold them). */
export const FILTER_KEYS = ['function', 'model', 'status', 'user'] as const
export type Filters = Pick<StreamFilters, (typeof FILTER_KEYS)[number]>

/** Every filter the streams explorer takes. */
export const STREAM_FILTER_KEYS = Object.keys(FILTER_SPECS) as FilterKey[]

const MAX_VALUE = 200

function parseValue(key: FilterKey, value: string): Parsed<string | number | true> {
  const spec: Spec = FILTER_SPECS[key]
  if (value.length > MAX_VALUE) return { ok: false, message: `${key} is longer than ${MAX_VALUE} characters` }
  // Compared in SQL: a NUL would fail the query, not just match nothing.
  const problem = textProblem(value)
  if (problem) return { ok: false, message: `${key} ${problem}` }
  switch (spec.kind) {
    case 'choice':
      if (spec.values.includes(value)) return { ok: true, value }
      return { ok: false, message: `${key} must be one of ${spec.values.join(', ')}, got "${value}"` }
    case 'flag':
      return value === '1' ? { ok: true, value: true } : { ok: false, message: `${key} must be 1 (or absent), got "${value}"` }
    case 'number': {
      const n = Number(value)
      const shape = spec.integer ? /^\d+$/ : /^\d+(\.\d+)?$/
      if (!shape.test(value) || n < spec.min || n > spec.max) {
        return { ok: false, message: `${key} must be ${spec.integer ? 'an integer' : 'a number'} in [${spec.min}, ${spec.max}], got "${value}"` }
      }
      return { ok: true, value: n }
    }
    case 'text':
      // A search without a word would match nothing, silently.
      if (key === 'q' && !/[\p{L}\p{N}]/u.test(value)) return { ok: false, message: `q must contain a letter or a digit, got "${value}"` }
      return { ok: true, value }
  }
}

function parseKeys<K extends FilterKey>(params: URLSearchParams, keys: readonly K[]): Parsed<Pick<StreamFilters, K>> {
  const filters: Record<string, string | number | true> = {}
  for (const key of keys) {
    const value = params.get(key)?.trim()
    if (!value) continue
    const parsed = parseValue(key, value)
    if (!parsed.ok) return parsed
    filters[key] = parsed.value
  }
  return { ok: true, value: filters as Pick<StreamFilters, K> }
}

/** The filters every page takes. */
export const parseFilters = (params: URLSearchParams): Parsed<Filters> => parseKeys(params, FILTER_KEYS)

/** The streams explorer's filters: those of every page and its own. */
export const parseStreamFilters = (params: URLSearchParams): Parsed<StreamFilters> => parseKeys(params, STREAM_FILTER_KEYS)

/** The set filters as query parameters. */
export function filterParams(filters: StreamFilters): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of STREAM_FILTER_KEYS) {
    const value = filters[key]
    if (value !== undefined) out[key] = value === true ? '1' : String(value)
  }
  return out
}

export function hasFilters(filters: StreamFilters): boolean {
  return STREAM_FILTER_KEYS.some((key) => filters[key] !== undefined)
}

/** The changes to hrefWith that drop these filters and the page cursor. */
export const clearing = (keys: readonly FilterKey[]): Record<string, null> => Object.fromEntries([...keys, 'after', 'before'].map((k) => [k, null]))
export const CLEAR_FILTERS = clearing(STREAM_FILTER_KEYS)

/**
 * `path?…` with the given parameters set (or removed when null/''), keeping the others;
 * parameters come out sorted so one view has one URL.
 */
export function hrefWith(url: URL, changes: Record<string, string | null | undefined>, path = url.pathname): string {
  const params = new URLSearchParams(url.search)
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') params.delete(key)
    else params.set(key, value)
  }
  params.sort()
  const query = params.toString()
  return query ? `${path}?${query}` : path
}

/**
 * The parameters of a view of `search` (with or without `?`): the page cursor (where a page
 * starts is not part of what it shows) and empty ones dropped, sorted, so one view has one string.
 */
export function viewParams(search: string): URLSearchParams {
  const params = new URLSearchParams(search.replace(/^\?/, ''))
  for (const key of [...new Set(params.keys())]) {
    if (key === 'after' || key === 'before' || params.getAll(key).every((v) => !v.trim())) params.delete(key)
  }
  params.sort()
  return params
}
