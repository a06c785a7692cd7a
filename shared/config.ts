/**
 * The functions' settings, read once from the environment by the entry file and
 * validated here. A bad value fails at start with every problem listed, not at the
 * first request that happens to need it. `npm start` reads them with the dashboard's
 * (shared/dashboard-config.ts) through one reader: server/config.ts.
 */
import { projectKeysFromEnv, type ProjectKeys } from './auth/keys.ts'
import { createEnvReader, type Env, type EnvReader } from './env-reader.ts'

export { ConfigError, type Env } from './env-reader.ts'

export interface Config extends ProjectKeys {
  jwtAudience: string
  provider: 'simulated' | 'openai'
  defaultModel: string
  /** Models a request may ask for; always contains defaultModel. */
  modelAllowlist: string[]
  maxContentChars: number
  maxOutputTokens: number
  historyMessages: number
  /** Token budget for the history sent to the model (oldest messages dropped first). */
  historyTokenBudget: number
  /** Seconds between `: heartbeat` comments while a stream waits on the provider. */
  heartbeatSeconds: number
  /** How long frames of a finished stream stay available for Last-Event-ID resume (0 = no resume). */
  resumeRetentionSeconds: number
  /** How long storing a finished answer is retried while the database is away (0 = one attempt). */
  storeRetrySeconds: number
  /** How long a stream whose reader went away goes on being generated (for a resume) before it is cut. */
  resumeGraceSeconds: number
  /** The frame log that lets any isolate resume a stream (functions/chat/frame-log.ts). */
  resumeLog: ResumeLogConfig
  /** Streams / frame bytes held for resume per process, and bytes of one stream. */
  resumeMaxStreams: number
  resumeMaxBytes: number
  resumeMaxStreamBytes: number
  openai: OpenAIConfig
  embed: EmbedConfig
  rateLimit: RateLimitConfig
  /** Environment override of the `chat_transport` flag ('' = use the database flag). */
  chatTransportOverride: (typeof CHAT_TRANSPORTS)[number]
  /** How long a feature flag read from the database is reused before it is read again. */
  flagCacheSeconds: number
  realtime: RealtimeConfig
  /** Record prompt and answer text in spans/logs (off by default). */
  captureContent: boolean
  /** Browser origins allowed to call the functions: ['*'] (default) or exact origins. */
  corsAllowedOrigins: string[]
  logLevel: LogLevel
  /** Lowest level also printed to stdout (the logs table gets everything from logLevel up). */
  consoleLevel: LogLevel
  /** A request on record whose process's heartbeat is this old is shown as lost (its process presumed dead). */
  telemetryLostAfterSeconds: number
  simulated: SimulatedConfig
  database: DatabaseConfig
  otlp: OtlpConfig
}

/** Spans also exported over OTLP/HTTP when `endpoint` is set. */
export interface OtlpConfig {
  endpoint: string
  /** OTEL_EXPORTER_OTLP_HEADERS as given: `key=value,key=value`. */
  headers: string
}

/** The functions' own PostgreSQL client (shared/db/open.ts opens it). */
export interface DatabaseConfig {
  /** The first set of STREAMSCOPE_DB_POOLER_URL, SUPABASE_DB_URL, DATABASE_URL; '' when none is. */
  url: string
  /** The variable `url` came from. */
  source: (typeof DATABASE_URL_KEYS)[number] | ''
  /** Connections one process (an isolate) opens at most. */
  maxConnections: number
  /** An idle connection is closed after this long (0 = kept open). */
  idleTimeoutSeconds: number
}

/**
 * In order of preference. The transaction pooler first: on Supabase SUPABASE_DB_URL is set
 * to the direct connection for every function, and secret names starting with SUPABASE_ are
 * the platform's, so the pooler needs a name of its own.
 */
export const DATABASE_URL_KEYS = ['STREAMSCOPE_DB_POOLER_URL', 'SUPABASE_DB_URL', 'DATABASE_URL'] as const

export interface ResumeLogConfig {
  /** The longest a delta waits before its batch is written, and the most frames in one batch. */
  flushMs: number
  maxFrames: number
  /** A live stream's beat while no frame flows, and the silence after which it is taken for cut. */
  beatSeconds: number
  deadSeconds: number
  /** A follower on another isolate polls this often while the log has nothing new. */
  pollMs: number
}

export interface SimulatedConfig {
  ttfbMs: number
  tokensPerSecond: number
  minTokens: number
  maxTokens: number
  /** Share of requests failing before the first token (0..1). */
  failureRate: number
  /** Share of requests failing mid-stream (0..1). */
  midStreamFailureRate: number
  seed: number
}

export interface OpenAIConfig {
  /** e.g. https://api.openai.com/v1, http://localhost:11434/v1 (Ollama), a vLLM server… */
  baseUrl: string
  /** Never logged, never put in a span. */
  apiKey: string
  timeoutMs: number
}

export interface EmbedConfig {
  provider: 'local' | 'openai'
  model: string
  dimension: number
  maxInputs: number
  maxInputChars: number
  /** Inputs per upstream call. */
  batchSize: number
}

export interface RateLimitConfig {
  /** Requests per user per minute; 0 = unlimited. */
  requestsPerMinute: number
  /** Tokens (input + output) per user per minute; 0 = unlimited. */
  tokensPerMinute: number
}

export interface RealtimeConfig {
  enabled: boolean
  /** SUPABASE_URL (the Realtime broadcast API lives under it). */
  url: string
  /** SUPABASE_SERVICE_ROLE_KEY: never logged. */
  serviceKey: string
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export const CHAT_TRANSPORTS = ['', 'sse', 'http'] as const
export const DEFAULT_JWT_AUDIENCE = 'authenticated'
const LEVELS = ['debug', 'info', 'warn', 'error'] as const

export interface ReadOptions {
  /** The caller opens the functions' database from this config: a URL is one of the problems. */
  requireDatabase?: boolean
}

export function readConfig(env: Env, options: ReadOptions = {}): Config {
  const reader = createEnvReader(env)
  const config = functionsSettings(reader, options)
  reader.check()
  return config
}

/** The functions' section of a config, its problems noted in `reader` (server/config.ts reads it with the dashboard's). */
export function functionsSettings(reader: EnvReader, options: ReadOptions = {}): Config {
  const { env, problems, str, num, oneOf, bool } = reader
  const keys = projectKeysFromEnv(env)
  problems.push(...keys.problems)
  const provider = oneOf('LLM_PROVIDER', ['simulated', 'openai'] as const, 'simulated')
  const defaultModel = str('DEFAULT_MODEL', provider === 'openai' ? 'gpt-4o-mini' : 'sim-1')
  const allow = (env.MODEL_ALLOWLIST ?? '').split(',').map((m) => m.trim()).filter(Boolean)
  const openai = openaiSettings(reader)
  const embed = embedSettings(reader)
  if ((provider === 'openai' || embed.provider === 'openai') && !openai.apiKey && openai.baseUrl.startsWith('https://api.openai.com')) {
    problems.push('OPENAI_API_KEY is required for api.openai.com')
  }
  return {
    ...keys.keys,
    jwtAudience: str('JWT_AUDIENCE', DEFAULT_JWT_AUDIENCE),
    provider,
    defaultModel,
    modelAllowlist: [...new Set([defaultModel, ...allow])],
    maxContentChars: num('MAX_CONTENT_CHARS', 32_000, 1, 10_000_000),
    maxOutputTokens: num('MAX_OUTPUT_TOKENS', 1_024, 1, 1_000_000),
    historyMessages: num('HISTORY_MESSAGES', 20, 0, 1_000),
    historyTokenBudget: num('HISTORY_TOKEN_BUDGET', 8_000, 0, 10_000_000),
    heartbeatSeconds: num('HEARTBEAT_SECONDS', 15, 1, 3_600),
    ...resumeSettings(reader),
    storeRetrySeconds: num('STORE_RETRY_SECONDS', 30, 0, 600, false),
    openai,
    embed,
    rateLimit: {
      requestsPerMinute: num('RATE_LIMIT_RPM', 60, 0, 1_000_000),
      tokensPerMinute: num('RATE_LIMIT_TPM', 100_000, 0, 1_000_000_000),
    },
    chatTransportOverride: oneOf('CHAT_TRANSPORT', CHAT_TRANSPORTS, ''),
    flagCacheSeconds: num('FLAG_CACHE_SECONDS', 5, 0, 3_600, false),
    realtime: realtimeSettings(reader),
    captureContent: bool('CAPTURE_CONTENT', false),
    corsAllowedOrigins: corsOrigins(reader),
    logLevel: oneOf('LOG_LEVEL', LEVELS, 'info'),
    consoleLevel: oneOf('LOG_CONSOLE_LEVEL', LEVELS, (env.LOG_LEVEL as LogLevel | undefined) ?? 'info'),
    telemetryLostAfterSeconds: num('TELEMETRY_LOST_AFTER_SECONDS', 10, 0.5, 3_600, false),
    simulated: simulatedSettings(reader),
    database: databaseSettings(reader, options),
    otlp: { endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '', headers: env.OTEL_EXPORTER_OTLP_HEADERS ?? '' },
  }
}

function databaseSettings({ env, problems, num }: EnvReader, options: ReadOptions): DatabaseConfig {
  const source = DATABASE_URL_KEYS.find((key) => env[key]) ?? ''
  const database: DatabaseConfig = {
    url: source ? env[source]! : '',
    source,
    maxConnections: num('DB_MAX_CONNECTIONS', 1, 1, 100),
    idleTimeoutSeconds: num('DB_IDLE_TIMEOUT_SECONDS', 10, 0, 86_400),
  }
  if (source && !/^postgres(ql)?:\/\/[^\s]+$/.test(database.url)) problems.push(`${source} must be a postgres:// URL`)
  if (!source && options.requireDatabase) problems.push(`one of ${DATABASE_URL_KEYS.join(', ')} is required`)
  return database
}

function openaiSettings({ env, num, url }: EnvReader): OpenAIConfig {
  return {
    baseUrl: url('OPENAI_BASE_URL', 'https://api.openai.com/v1'),
    apiKey: env.OPENAI_API_KEY ?? '',
    timeoutMs: num('OPENAI_TIMEOUT_MS', 60_000, 1_000, 3_600_000),
  }
}

function embedSettings({ str, num, oneOf }: EnvReader): EmbedConfig {
  const provider = oneOf('EMBED_PROVIDER', ['local', 'openai'] as const, 'local')
  return {
    provider,
    model: str('EMBED_MODEL', provider === 'openai' ? 'text-embedding-3-small' : 'local-hash-384'),
    dimension: num('EMBED_DIMENSION', provider === 'openai' ? 1536 : 384, 1, 16_000),
    maxInputs: num('EMBED_MAX_INPUTS', 256, 1, 100_000),
    maxInputChars: num('EMBED_MAX_INPUT_CHARS', 32_000, 1, 10_000_000),
    batchSize: num('EMBED_BATCH_SIZE', 64, 1, 2_048),
  }
}

/** Resumable streams: how long they are kept, the frame log's pace, the memory bounds. */
function resumeSettings({ num }: EnvReader) {
  return {
    resumeRetentionSeconds: num('RESUME_RETENTION_SECONDS', 120, 0, 86_400),
    resumeGraceSeconds: num('RESUME_GRACE_SECONDS', 120, 0, 3_600, false),
    resumeLog: {
      flushMs: num('RESUME_LOG_FLUSH_MS', 1000, 1, 60_000),
      maxFrames: num('RESUME_LOG_MAX_FRAMES', 64, 1, 100_000),
      beatSeconds: num('RESUME_BEAT_SECONDS', 2, 0.05, 600, false),
      deadSeconds: num('RESUME_DEAD_SECONDS', 10, 0.1, 3_600, false),
      pollMs: num('RESUME_POLL_MS', 200, 1, 60_000),
    },
    resumeMaxStreams: num('RESUME_MAX_STREAMS', 500, 1, 1_000_000),
    resumeMaxBytes: num('RESUME_MAX_BYTES', 32 * 1024 * 1024, 1_024, 2 ** 40),
    resumeMaxStreamBytes: num('RESUME_MAX_STREAM_BYTES', 1024 * 1024, 1_024, 2 ** 40),
  } satisfies Partial<Config>
}

function realtimeSettings({ env, problems, bool, url }: EnvReader): RealtimeConfig {
  const realtime: RealtimeConfig = {
    enabled: bool('REALTIME_ENABLED', false),
    url: url('SUPABASE_URL'),
    serviceKey: env.SUPABASE_SERVICE_ROLE_KEY ?? '',
  }
  if (realtime.enabled && (!realtime.url || !realtime.serviceKey)) problems.push('REALTIME_ENABLED needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY')
  return realtime
}

function corsOrigins({ env, problems }: EnvReader): string[] {
  const origins = (env.CORS_ALLOWED_ORIGINS ?? '*').split(',').map((o) => o.trim()).filter(Boolean)
  for (const o of origins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`CORS_ALLOWED_ORIGINS entries must be * or an origin like https://app.example.com (no path), got "${o}"`)
  }
  if (!origins.length) problems.push('CORS_ALLOWED_ORIGINS must name at least one origin, or *')
  return origins
}

function simulatedSettings({ problems, num }: EnvReader): SimulatedConfig {
  const simulated: SimulatedConfig = {
    ttfbMs: num('SIM_TTFB_MS', 150, 0, 600_000),
    tokensPerSecond: num('SIM_TOKENS_PER_SECOND', 40, 0.01, 1_000_000, false),
    minTokens: num('SIM_MIN_TOKENS', 20, 1, 1_000_000),
    maxTokens: num('SIM_MAX_TOKENS', 120, 1, 1_000_000),
    failureRate: num('SIM_FAILURE_RATE', 0, 0, 1, false),
    midStreamFailureRate: num('SIM_MID_STREAM_FAILURE_RATE', 0, 0, 1, false),
    seed: num('SIM_SEED', 1, 0, 2 ** 31),
  }
  if (simulated.minTokens > simulated.maxTokens) problems.push('SIM_MIN_TOKENS must not exceed SIM_MAX_TOKENS')
  return simulated
}
