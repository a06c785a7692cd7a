import { describe, expect, it } from 'vitest'
import { filterParams, hrefWith, parseFilters, parseStreamFilters, viewParams } from './filters'

describe('parseFilters', () => {
  it('keeps the set filters, trimmed', () => {
    const r = parseFilters(new URLSearchParams('function=chat&model=%20gpt-4o%20&status=error&user=u1&other=x'))
    expect(r).toEqual({ ok: true, value: { function: 'chat', model: 'gpt-4o', status: 'error', user: 'u1' } })
    expect(r.ok && filterParams(r.value)).toEqual({ function: 'chat', model: 'gpt-4o', status: 'error', user: 'u1' })
    expect(parseFilters(new URLSearchParams('model=&user='))).toEqual({ ok: true, value: {} })
  })

  it('refuses unknown statuses and functions', () => {
    expect(parseFilters(new URLSearchParams('status=broken')).ok).toBe(false)
    expect(parseFilters(new URLSearchParams('function=resize')).ok).toBe(false)
    expect(parseFilters(new URLSearchParams(`user=${'x'.repeat(201)}`)).ok).toBe(false)
  })
})

describe('parseStreamFilters', () => {
  it('reads every explorer filter into its type, and round-trips through filterParams', () => {
    const query = 'end_reason=cut&error_code=stream_cut&http_status=502&min_ttfb_ms=250.5&min_duration_ms=3000&stalled=1&resumed=1' +
      '&session=s1&q=%22biting%20flies%22&status=error&model=m'
    const r = parseStreamFilters(new URLSearchParams(query))
    expect(r).toEqual({ ok: true, value: {
      end_reason: 'cut', error_code: 'stream_cut', http_status: 502, min_ttfb_ms: 250.5, min_duration_ms: 3000, stalled: true, resumed: true,
      session: 's1', q: '"biting flies"', status: 'error', model: 'm',
    } })
    expect(r.ok && parseStreamFilters(new URLSearchParams(filterParams(r.value)))).toEqual(r)
    // The pages that read rollups take only their own filters.
    expect(parseFilters(new URLSearchParams(query))).toEqual({ ok: true, value: { status: 'error', model: 'm' } })
  })

  it('refuses a bad value, naming the parameter, instead of ignoring it', () => {
    for (const bad of [
      'end_reason=finished', 'end_reason=DONE', 'http_status=99', 'http_status=600', 'http_status=5xx', 'http_status=200.5',
      'min_ttfb_ms=-1', 'min_ttfb_ms=abc', 'min_ttfb_ms=1e3', 'min_duration_ms=86400001', 'stalled=yes', 'stalled=0', 'resumed=true',
      'q=%21%21%21', 'q=a%00b', 'session=%00', `error_code=${'x'.repeat(201)}`,
    ]) {
      const r = parseStreamFilters(new URLSearchParams(bad))
      expect(r.ok, bad).toBe(false)
      expect(!r.ok && r.message, bad).toMatch(new RegExp(`^${bad.split('=')[0]} `))
    }
  })
})

describe('hrefWith', () => {
  it('sets, removes and sorts parameters: one view, one URL', () => {
    const url = new URL('http://x/streams?status=error&range=1h&after=abc')
    expect(hrefWith(url, { model: 'gpt-4o', after: null })).toBe('/streams?model=gpt-4o&range=1h&status=error')
    expect(hrefWith(url, { status: '', range: null, after: null })).toBe('/streams')
    expect(hrefWith(url, {}, '/api/spend/daily.csv')).toBe('/api/spend/daily.csv?after=abc&range=1h&status=error')
  })
})

describe('viewParams', () => {
  it('drops the page cursor and empty parameters and sorts the rest: one view, one string', () => {
    expect(viewParams('?status=error&after=abc&model=&range=24h&before=x&q=%20').toString()).toBe('range=24h&status=error')
    expect(viewParams('sort=ttfb&function=chat').toString()).toBe('function=chat&sort=ttfb')
    expect(viewParams('').toString()).toBe('')
  })
})

