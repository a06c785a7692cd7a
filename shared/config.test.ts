import { describe, expect, it } from 'vitest'
import { ConfigError, readConfig } from './config.ts'

const SECRET = 'a-project-jwt-secret-of-32-characters!'

describe('readConfig', () => {
  it('fills the documented defaults from a minimal environment', () => {
    const c = readConfig({ JWT_SECRET: SECRET })
    expect(c).toMatchObject({
      provider: 'simulated', defaultModel: 'sim-1', modelAllowlist: ['sim-1'], maxContentChars: 32_000, maxOutputTokens: 1_024,
      heartbeatSeconds: 15, rateLimit: { requestsPerMinute: 60, tokensPerMinute: 100_000 }, captureContent: false,
      corsAllowedOrigins: ['*'], chatTransportOverride: '',
    })
  })

  it('lists every bad value at once, naming the variable and what it got', () => {
    let err: unknown
    try {
      readConfig({
        JWT_SECRET: 'short', RATE_LIMIT_RPM: '-1', HEARTBEAT_SECONDS: '1.5', LLM_PROVIDER: 'gemini',
        CORS_ALLOWED_ORIGINS: 'https://app.example.com/path', CAPTURE_CONTENT: 'maybe',
      })
    } catch (e) { err = e }
    expect(err).toBeInstanceOf(ConfigError)
    const message = (err as Error).message
    for (const part of [
      'JWT_SECRET must be at least 32 characters', 'RATE_LIMIT_RPM must be an integer', 'HEARTBEAT_SECONDS must be an integer',
      'LLM_PROVIDER must be one of simulated, openai, got "gemini"', 'CORS_ALLOWED_ORIGINS entries must be * or an origin',
      'CAPTURE_CONTENT must be true/false/1/0, got "maybe"',
    ]) expect(message).toContain(part)
  })

  it('takes a comma-separated list of exact origins', () => {
    expect(readConfig({ JWT_SECRET: SECRET, CORS_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsAllowedOrigins)
      .toEqual(['https://app.example.com', 'http://localhost:5173'])
  })

  it('needs a way to verify tokens, and a key for api.openai.com', () => {
    expect(() => readConfig({})).toThrow(/JWT_SECRET, SUPABASE_JWKS, JWKS_URL or SUPABASE_URL is required/)
    expect(() => readConfig({ JWT_SECRET: SECRET, LLM_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY is required/)
  })

  it('takes the pooler URL over SUPABASE_DB_URL over DATABASE_URL, one connection with an idle timeout by default', () => {
    const urls = { STREAMSCOPE_DB_POOLER_URL: 'postgres://p@pooler:6543/postgres', SUPABASE_DB_URL: 'postgresql://d@db:5432/postgres', DATABASE_URL: 'postgres://l@local/postgres' }
    expect(readConfig({ JWT_SECRET: SECRET, ...urls }).database).toEqual({ url: urls.STREAMSCOPE_DB_POOLER_URL, source: 'STREAMSCOPE_DB_POOLER_URL', maxConnections: 1, idleTimeoutSeconds: 10 })
    expect(readConfig({ JWT_SECRET: SECRET, ...urls, STREAMSCOPE_DB_POOLER_URL: '' }).database).toMatchObject({ url: urls.SUPABASE_DB_URL, source: 'SUPABASE_DB_URL' })
    expect(readConfig({ JWT_SECRET: SECRET, DATABASE_URL: urls.DATABASE_URL, DB_MAX_CONNECTIONS: '3', DB_IDLE_TIMEOUT_SECONDS: '0' }).database)
      .toEqual({ url: urls.DATABASE_URL, source: 'DATABASE_URL', maxConnections: 3, idleTimeoutSeconds: 0 })
    expect(readConfig({ JWT_SECRET: SECRET }).database).toMatchObject({ url: '', source: '' })
  })

  it('lists a missing or bad database setting with the others, never printing the URL', () => {
    const message = (() => { try { readConfig({ JWT_SECRET: 'short', DB_MAX_CONNECTIONS: '0' }, { requireDatabase: true }) } catch (e) { return (e as Error).message } })()
    for (const part of ['JWT_SECRET must be at least 32', 'DB_MAX_CONNECTIONS must be an integer in [1, 100], got "0"',
      'one of STREAMSCOPE_DB_POOLER_URL, SUPABASE_DB_URL, DATABASE_URL is required']) expect(message).toContain(part)
    const bad = () => readConfig({ JWT_SECRET: SECRET, STREAMSCOPE_DB_POOLER_URL: 'https://user:hunter2@pooler' })
    expect(bad).toThrow('STREAMSCOPE_DB_POOLER_URL must be a postgres:// URL')
    expect(bad).not.toThrow(/hunter2/)
  })
})
