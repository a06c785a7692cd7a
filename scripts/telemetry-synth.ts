// Synthetic telemetry that looks like production: a daily traffic curve, a few hundred users
// (some much busier than others) in sessions, several models with their own latency and
// speed, long answers, client aborts, stalls, 4xx rejections and a few error bursts.
// Pure and seeded: the same options give the same rows. Used by scripts/seed-telemetry.ts
// and bench/dashboard.ts.
import { ATTR } from '../shared/telemetry/attributes.ts'
import type { LogRow, SpanRow } from '../shared/telemetry/rows.ts'
import { SPAN_NULLS } from '../shared/telemetry/span-columns.ts'
import { createRandom } from '../shared/random.ts'

export interface SynthOptions {
  /** Last instant of the data (exclusive). */
  end: Date
  days: number
  seed: number
  users?: number
}

export interface Request {
  spans: SpanRow[]
  logs: LogRow[]
}

interface Model {
  name: string
  weight: number
  ttfbMedianMs: number
  tokensPerSecond: number
}

const CHAT_MODELS: Model[] = [
  { name: 'gpt-4o-mini', weight: 0.45, ttfbMedianMs: 380, tokensPerSecond: 85 },
  { name: 'gpt-4o', weight: 0.2, ttfbMedianMs: 620, tokensPerSecond: 55 },
  { name: 'gpt-4.1', weight: 0.1, ttfbMedianMs: 700, tokensPerSecond: 50 },
  { name: 'o3-mini', weight: 0.05, ttfbMedianMs: 2400, tokensPerSecond: 95 },
  { name: 'sim-1', weight: 0.2, ttfbMedianMs: 150, tokensPerSecond: 40 },
]
const EMBED_MODEL = 'text-embedding-3-small'
const DAY = 86_400_000

interface Burst {
  start: number
  end: number
  model: string
  rate: number
  code: string
}

export function createSynth(options: SynthOptions) {
  const random = createRandom(options.seed)
  const userCount = options.users ?? 400
  const start = options.end.getTime() - options.days * DAY
  const hex = (chars: number) => {
    let out = ''
    while (out.length < chars) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0')
    return out.slice(0, chars)
  }
  const uuid = () => {
    const h = hex(32)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
  const normal = () => {
    const u = Math.max(random(), 1e-12)
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
  }
  const logNormal = (median: number, sigma: number) => median * Math.exp(sigma * normal())
  const pick = <T extends { weight: number }>(items: T[]) => {
    let r = random() * items.reduce((n, i) => n + i.weight, 0)
    for (const item of items) if ((r -= item.weight) <= 0) return item
    return items[items.length - 1]!
  }

  // Zipf-ish: user i is picked with weight 1/(i+1)^0.8, so a few users do much of the traffic.
  // A session keeps its model (a conversation is held with one model); a new session may pick another.
  const users = Array.from({ length: userCount }, (_, i) => ({ id: uuid(), weight: 1 / (i + 1) ** 0.8, session: uuid(), model: pick(CHAT_MODELS) }))

  // An incident every ~3 days: 20–90 minutes in which one model fails a lot.
  const bursts: Burst[] = []
  for (let t = start + random() * 2 * DAY; t < options.end.getTime(); t += (1.5 + random() * 3) * DAY) {
    const model = CHAT_MODELS[Math.floor(random() * 4)]!.name
    const code = ['provider_unavailable', 'provider_stream_error', 'provider_error'][Math.floor(random() * 3)]!
    bursts.push({ start: t, end: t + (20 + random() * 70) * 60_000, model, rate: 0.2 + random() * 0.4, code })
  }
  const burstAt = (t: number, model: string) => bursts.find((b) => b.model === model && t >= b.start && t < b.end)

  /** Traffic relative to the daily peak at this instant (UTC afternoon busy, night quiet). */
  function load(t: number): number {
    const hour = ((t % DAY) / 3_600_000 + 24) % 24
    const day = Math.floor(t / DAY) % 7
    const weekend = day === 2 || day === 3 ? 0.6 : 1 // 1970-01-01 was a Thursday
    return weekend * (0.25 + 0.75 * Math.exp(-((hour - 15) ** 2) / 30))
  }

  /** Start times of `n` requests spread over the window following the daily curve, sorted. */
  function startTimes(n: number): number[] {
    const out: number[] = []
    const span = options.end.getTime() - start
    while (out.length < n) {
      const t = start + random() * span
      if (random() < load(t)) out.push(t)
    }
    return out.sort((a, b) => a - b)
  }

  function span(traceId: string, parent: string | null, name: string, kind: string, t0: number, durationMs: number, extra: Partial<SpanRow> = {}): SpanRow {
    return {
      ...SPAN_NULLS, trace_id: traceId, span_id: hex(16), parent_span_id: parent, name, kind,
      start_time: new Date(t0), end_time: new Date(t0 + durationMs), duration_ms: durationMs,
      status_code: 'unset', attributes: {},
      ...extra,
    }
  }

  const log = (t: number, level: LogRow['level'], traceId: string, spanId: string, message: string, attributes: Record<string, unknown>): LogRow =>
    ({ time: new Date(t), level, trace_id: traceId, span_id: spanId, message, attributes })

  function chat(t0: number): Request {
    const user = pick(users)
    if (random() < 0.12) {
      user.session = uuid()
      user.model = pick(CHAT_MODELS)
    }
    const model = user.model
    const traceId = hex(32)
    const root = hex(16)
    const common = { function: 'chat', user_id: user.id, session_id: user.session, model: model.name }
    const attrs: Record<string, unknown> = {
      [ATTR.function]: 'chat', [ATTR.httpMethod]: 'POST', [ATTR.httpRoute]: '/functions/v1/chat',
      [ATTR.userId]: user.id, [ATTR.conversationId]: user.session, [ATTR.requestModel]: model.name,
    }
    const spans: SpanRow[] = []
    const logs: LogRow[] = []
    const auth = 0.3 + random() * 1.5
    spans.push(span(traceId, root, 'auth verify_jwt', 'internal', t0 + 0.2, auth))

    // 4xx: rejected before anything is stored.
    const r = random()
    if (r < 0.025) {
      const [code, status] = r < 0.01 ? ['rate_limited', 429] : r < 0.018 ? ['invalid_request', 400] : ['unauthorized', 401]
      const duration = auth + 1 + random() * 3
      spans.push(span(traceId, null, 'POST /functions/v1/chat', 'server', t0, duration, {
        ...common, span_id: root, error_type: code, http_status: status,
        attributes: { ...attrs, [ATTR.errorType]: code, [ATTR.httpStatus]: status },
      }))
      logs.push(log(t0 + duration, 'warn', traceId, root, 'chat request rejected', { code, status }))
      return { spans, logs }
    }

    const dbSelect = 1 + random() * 4
    spans.push(span(traceId, root, 'select messages', 'client', t0 + auth + 0.5, dbSelect, { attributes: { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'select', [ATTR.dbCollection]: 'messages' } }))
    const dbInsert = 1 + random() * 3
    spans.push(span(traceId, root, 'insert messages', 'client', t0 + auth + dbSelect + 1, dbInsert, { attributes: { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'messages' } }))
    const providerStart = t0 + auth + dbSelect + dbInsert + 2

    const burst = burstAt(t0, model.name)
    const failsBefore = random() < (burst ? burst.rate * 0.5 : 0.003)
    const failsMid = !failsBefore && random() < (burst ? burst.rate * 0.5 : 0.004)
    const aborts = !failsBefore && !failsMid && random() < 0.02
    const code = burst?.code ?? (random() < 0.5 ? 'provider_unavailable' : 'provider_stream_error')

    const ttfb = Math.min(logNormal(model.ttfbMedianMs, 0.45) * (burst ? 2 : 1), 60_000)
    const long = random() < 0.03
    let tokens = Math.round(Math.min(long ? 1200 + random() * 2800 : logNormal(140, 0.7), 4096))
    if (failsMid || aborts) tokens = Math.max(1, Math.round(tokens * random()))
    const inputTokens = Math.round(logNormal(420, 0.8)) + 12

    const offsets: number[] = []
    let stalls = 0
    let maxGap = 0
    if (!failsBefore) {
      let t = ttfb
      const stallAt = random() < 0.012 ? Math.floor(random() * tokens) : -1
      for (let i = 0; i < tokens; i++) {
        if (i > 0) {
          let gap = -Math.log(Math.max(random(), 1e-9)) * (1000 / model.tokensPerSecond)
          if (i === stallAt) gap += 2100 + random() * 6000
          if (gap > 2000) stalls++
          maxGap = Math.max(maxGap, gap)
          t += gap
        }
        offsets.push(Math.round(t * 100) / 100)
      }
    }
    const streamEnd = failsBefore ? ttfb * 0.5 + random() * 3000 : (offsets.at(-1) ?? ttfb) + 5 + random() * 30
    const endReason = failsBefore || failsMid ? 'error' : aborts ? 'client_abort' : 'done'
    const failed = failsBefore || failsMid
    const providerDuration = streamEnd
    const providerId = hex(16)
    spans.push(span(traceId, root, `chat ${model.name}`, 'client', providerStart, providerDuration, {
      span_id: providerId, model: model.name,
      status_code: failed ? 'error' : 'unset', status_message: failed ? `${code}: upstream failed` : null,
      error_type: failed ? code : null,
      input_tokens: failsBefore ? null : inputTokens, output_tokens: failsBefore ? null : tokens,
      attributes: {
        [ATTR.operation]: 'chat', [ATTR.provider]: model.name === 'sim-1' ? 'simulated' : 'openai', [ATTR.requestModel]: model.name,
        [ATTR.responseModel]: model.name, [ATTR.stream]: true,
        ...(failsBefore ? {} : { [ATTR.timeToFirstChunk]: ttfb / 1000, [ATTR.inputTokens]: inputTokens, [ATTR.outputTokens]: tokens }),
      },
      events: failsBefore ? null : [{ name: 'first_token', time: new Date(t0 + ttfb).toISOString(), attributes: {} }],
    }))
    const saveStart = t0 + auth + dbSelect + dbInsert + 2 + providerDuration
    const save = 1 + random() * 3
    if (!failsBefore) {
      spans.push(span(traceId, root, 'insert messages', 'client', saveStart, save, { attributes: { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'messages' } }))
    }
    const total = saveStart + save + 0.5 - t0
    const bytes = offsets.length * 92 + (failed ? 120 : 260)
    spans.push(span(traceId, null, 'POST /functions/v1/chat', 'server', t0, total, {
      ...common, span_id: root,
      status_code: failed ? 'error' : 'unset', status_message: failed ? `${code}: upstream failed` : null,
      ttfb_ms: offsets.length ? ttfb : null,
      input_tokens: failsBefore ? null : inputTokens, output_tokens: failsBefore ? null : tokens,
      error_type: failed ? code : aborts ? 'client_abort' : null,
      http_status: 200, end_reason: endReason, frames: offsets.length, bytes,
      frame_offsets_ms: offsets, stalls, max_gap_ms: offsets.length > 1 ? maxGap : null, usage_estimated: model.name === 'sim-1' ? false : null,
      attributes: {
        ...attrs, [ATTR.httpStatus]: 200, [ATTR.endReason]: endReason, [ATTR.frames]: offsets.length, [ATTR.bytes]: bytes,
        [ATTR.stalls]: stalls, ...(offsets.length ? { [ATTR.ttfbMs]: ttfb } : {}),
        ...(failed ? { [ATTR.errorType]: code } : aborts ? { [ATTR.errorType]: 'client_abort' } : {}),
      },
    }))
    // Most clients post the beacon (shared/client/beacon.ts) when the stream ends: they see the
    // first frame later than the server sent it, by the network and the proxies in between.
    if (offsets.length && random() < 0.9) {
      const network = logNormal(45, 0.6)
      spans.push(span(traceId, root, 'client timing', 'internal', t0 + total + network, 0, {
        user_id: user.id,
        attributes: { [ATTR.clientTtfbMs]: ttfb + network, [ATTR.clientDurationMs]: total + network, [ATTR.userId]: user.id },
      }))
    }
    if (failed) logs.push(log(t0 + total - save, 'error', traceId, root, 'provider failed', { code, error: 'upstream failed' }))
    logs.push(log(t0 + total, 'info', traceId, root, 'chat stream ended', { end_reason: endReason, frames: offsets.length, ttfb_ms: Math.round(ttfb), duration_ms: Math.round(total) }))
    return { spans, logs }
  }

  function embed(t0: number): Request {
    const user = pick(users)
    const traceId = hex(32)
    const root = hex(16)
    const inputs = 1 + Math.floor(random() * 8)
    const tokens = inputs * Math.round(logNormal(300, 0.6))
    const auth = 0.3 + random()
    const call = logNormal(180, 0.4)
    const failed = random() < 0.004
    const total = auth + call + 4 + random() * 6
    const spans = [
      span(traceId, root, 'auth verify_jwt', 'internal', t0 + 0.2, auth),
      span(traceId, root, `embeddings ${EMBED_MODEL}`, 'client', t0 + auth + 1, call, {
        model: EMBED_MODEL, input_tokens: tokens, status_code: failed ? 'error' : 'unset', error_type: failed ? 'provider_error' : null,
        attributes: { [ATTR.operation]: 'embeddings', [ATTR.requestModel]: EMBED_MODEL, [ATTR.inputTokens]: tokens },
      }),
      span(traceId, root, 'insert message_embeddings', 'client', t0 + auth + call + 2, 2 + random() * 3, { attributes: { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'message_embeddings' } }),
      span(traceId, null, 'POST /functions/v1/embed', 'server', t0, total, {
        function: 'embed', model: EMBED_MODEL, user_id: user.id, input_tokens: tokens, output_tokens: 0,
        status_code: failed ? 'error' : 'unset', error_type: failed ? 'provider_error' : null, http_status: failed ? 502 : 200,
        attributes: { [ATTR.function]: 'embed', [ATTR.httpMethod]: 'POST', [ATTR.httpRoute]: '/functions/v1/embed', [ATTR.userId]: user.id, [ATTR.httpStatus]: failed ? 502 : 200 },
      }),
    ]
    return { spans, logs: [log(t0 + total, failed ? 'error' : 'info', traceId, root, failed ? 'embedding failed' : 'embedded', { inputs })] }
  }

  /** About 7 spans per chat request (with its client timing), 4 per embed: the requests needed for `spans` spans. */
  const requestsFor = (spans: number) => Math.max(1, Math.round(spans / 6.4))

  return {
    startTimes,
    requestsFor,
    request: (t0: number): Request => (random() < 0.1 ? embed(t0) : chat(t0)),
    bursts,
  }
}
