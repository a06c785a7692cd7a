import { describe, expect, it } from 'vitest'
import { filterParams, hrefWith, parseFilters } from './filters'

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

describe('hrefWith', () => {
  it('sets, removes and sorts parameters: one view, one URL', () => {
    const url = new URL('http://x/streams?status=error&range=1h&after=abc')
    expect(hrefWith(url, { model: 'gpt-4o', after: null })).toBe('/streams?model=gpt-4o&range=1h&status=error')
    expect(hrefWith(url, { status: '', range: null, after: null })).toBe('/streams')
    expect(hrefWith(url, {}, '/api/spend/daily.csv')).toBe('/api/spend/daily.csv?after=abc&range=1h&status=error')
  })
})
