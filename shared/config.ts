/**
 * The functions' settings, read once from the environment by the entry file and
 * validated here. A bad value fails at start with every problem listed, not at the
 * first request that happens to need it.
 */
export interface Config {
  jwtSecret: string
  jwtAudience: string
  provider: 'simulated'
  defaultModel: string
  maxContentChars: number
  maxOutputTokens: number
  historyMessages: number
  logLevel: LogLevel
  /** Lowest level also printed to stdout (the logs table gets everything from logLevel up). */
  consoleLevel: LogLevel
  simulated: SimulatedConfig
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

export type Env = Record<string, string | undefined>

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS = ['debug', 'info', 'warn', 'error'] as const

export class ConfigError extends Error {}

export function readConfig(env: Env): Config {
  const problems: string[] = []
  const str = (key: string, fallback?: string): string => {
    const v = env[key] ?? fallback
    if (v === undefined || v === '') problems.push(`${key} is required`)
    return v ?? ''
  }
  const num = (key: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = env[key]
    if (raw === undefined || raw === '') return fallback
    const v = Number(raw)
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      problems.push(`${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${raw}"`)
      return fallback
    }
    return v
  }
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const v = (env[key] ?? fallback) as T
    if (!values.includes(v)) problems.push(`${key} must be one of ${values.join(', ')}, got "${v}"`)
    return v
  }

  const jwtSecret = str('JWT_SECRET')
  if (jwtSecret && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters')
  const config: Config = {
    jwtSecret,
    jwtAudience: str('JWT_AUDIENCE', 'authenticated'),
    provider: oneOf('LLM_PROVIDER', ['simulated'] as const, 'simulated'),
    defaultModel: str('DEFAULT_MODEL', 'sim-1'),
    maxContentChars: num('MAX_CONTENT_CHARS', 32_000, 1, 10_000_000),
    maxOutputTokens: num('MAX_OUTPUT_TOKENS', 1_024, 1, 1_000_000),
    historyMessages: num('HISTORY_MESSAGES', 20, 0, 1_000),
    logLevel: oneOf('LOG_LEVEL', LEVELS, 'info'),
    consoleLevel: oneOf('LOG_CONSOLE_LEVEL', LEVELS, (env.LOG_LEVEL as LogLevel | undefined) ?? 'info'),
    simulated: {
      ttfbMs: num('SIM_TTFB_MS', 150, 0, 600_000),
      tokensPerSecond: num('SIM_TOKENS_PER_SECOND', 40, 0.01, 1_000_000, false),
      minTokens: num('SIM_MIN_TOKENS', 20, 1, 1_000_000),
      maxTokens: num('SIM_MAX_TOKENS', 120, 1, 1_000_000),
      failureRate: num('SIM_FAILURE_RATE', 0, 0, 1, false),
      midStreamFailureRate: num('SIM_MID_STREAM_FAILURE_RATE', 0, 0, 1, false),
      seed: num('SIM_SEED', 1, 0, 2 ** 31),
    },
  }
  if (config.simulated.minTokens > config.simulated.maxTokens) problems.push('SIM_MIN_TOKENS must not exceed SIM_MAX_TOKENS')
  if (problems.length) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
  return config
}
