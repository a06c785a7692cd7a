// Reading settings from an environment. Each helper returns the value (or its fallback) and notes a
// bad value as a problem instead of throwing, so a config built from several sections lists every
// problem at once (shared/config.ts, shared/dashboard-config.ts, server/config.ts).

export type Env = Record<string, string | undefined>

export class ConfigError extends Error {}

export interface EnvReader {
  env: Env
  problems: string[]
  /** Required: unset or empty without a fallback is a problem. */
  str(key: string, fallback?: string): string
  num(key: string, fallback: number, min: number, max: number, integer?: boolean): number
  /** Unset or empty: undefined (the caller has a default of its own elsewhere). */
  optionalNum(key: string, min: number, max: number): number | undefined
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T
  bool(key: string, fallback: boolean): boolean
  /** An http(s) URL without its trailing slashes; '' when unset. */
  url(key: string, fallback?: string): string
  /** Throws ConfigError with every problem noted, once each. */
  check(): void
}

export function createEnvReader(env: Env): EnvReader {
  const problems: string[] = []
  const inRange = (key: string, raw: string, min: number, max: number, integer: boolean): number | undefined => {
    const v = Number(raw)
    if (Number.isFinite(v) && (!integer || Number.isInteger(v)) && v >= min && v <= max) return v
    problems.push(`${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${raw}"`)
    return undefined
  }
  return {
    env,
    problems,
    str(key, fallback) {
      const v = env[key] ?? fallback
      if (v === undefined || v === '') problems.push(`${key} is required`)
      return v ?? ''
    },
    num(key, fallback, min, max, integer = true) {
      const raw = env[key]
      if (raw === undefined || raw === '') return fallback
      return inRange(key, raw, min, max, integer) ?? fallback
    },
    optionalNum(key, min, max) {
      const raw = env[key]
      if (raw === undefined || raw === '') return undefined
      return inRange(key, raw, min, max, true)
    },
    oneOf(key, values, fallback) {
      const v = (env[key] ?? fallback) as (typeof values)[number]
      if (!values.includes(v)) problems.push(`${key} must be one of ${values.join(', ')}, got "${v}"`)
      return v
    },
    bool(key, fallback) {
      const raw = env[key]
      if (raw === undefined || raw === '') return fallback
      if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
      if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
      problems.push(`${key} must be true/false/1/0, got "${raw}"`)
      return fallback
    },
    url(key, fallback = '') {
      const v = env[key] ?? fallback
      if (v === '') return ''
      try {
        const u = new URL(v)
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
      } catch {
        problems.push(`${key} must be an http(s) URL, got "${v}"`)
      }
      return v.replace(/\/+$/, '')
    },
    check() {
      if (problems.length) throw new ConfigError(`invalid configuration:\n  - ${[...new Set(problems)].join('\n  - ')}`)
    },
  }
}

/**
 * `env` with `defaults` for the variables it leaves unset (`??`: an empty value stays empty). Read
 * through rather than copied, so the view holds no snapshot and every variable read is read from `env`.
 */
export function withDefaults(env: Env, defaults: Env): Env {
  return new Proxy(env, { get: (target, key) => (typeof key === 'string' ? target[key] ?? defaults[key] : undefined) })
}
