// What the pages print: attribute values without float noise, and the figures in the tables.
import { describe, expect, it } from 'vitest'
import { formatChange, formatDuration, formatMs, formatNumber, formatOffset, formatUsd, formatValue } from './format'

describe('formatNumber', () => {
  it('rounds off float noise to a thousandth, and keeps 3 significant digits below 1', () => {
    expect(formatNumber(197.34251300000005)).toBe('197.343')
    expect(formatNumber(0.1 + 0.2)).toBe('0.3')
    expect(formatNumber(12.5)).toBe('12.5')
    expect(formatNumber(1234567.8912)).toBe('1234567.891')
    expect(formatNumber(0.000123456789)).toBe('0.000123')
    expect(formatNumber(-0.98765)).toBe('-0.988')
    expect(formatNumber(-3.14159)).toBe('-3.142')
  })

  it('leaves integers and non-finite numbers as they are', () => {
    expect(formatNumber(200)).toBe('200')
    expect(formatNumber(-7)).toBe('-7')
    expect(formatNumber(0)).toBe('0')
    expect(formatNumber(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991')
    expect(formatNumber(Number.NaN)).toBe('NaN')
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('Infinity')
  })
})

describe('formatValue', () => {
  it('prints strings bare and numbers rounded', () => {
    expect(formatValue('chat.done')).toBe('chat.done')
    expect(formatValue('197.34251300000005')).toBe('197.34251300000005')
    expect(formatValue(197.34251300000005)).toBe('197.343')
    expect(formatValue(42)).toBe('42')
  })

  it('rounds the numbers inside arrays and objects, and prints the rest as JSON', () => {
    expect(formatValue([0.1 + 0.2, 20.000000000000004, 3])).toBe('[0.3,20,3]')
    expect(formatValue({ ttfb_ms: 197.34251300000005, ok: true, name: 'x' })).toBe('{"ttfb_ms":197.343,"ok":true,"name":"x"}')
    expect(formatValue(true)).toBe('true')
    expect(formatValue(null)).toBe('null')
  })
})

describe('the figures in tables', () => {
  it('milliseconds: one decimal under 100, whole with separators above', () => {
    expect(formatMs(0.44)).toBe('0.4')
    expect(formatMs(99.96)).toBe('100')
    expect(formatMs(197.34251300000005)).toBe('197')
    expect(formatMs(1204.2)).toBe('1,204')
    expect(formatMs(null)).toBe('–')
    expect(formatOffset(-4.24)).toBe('−4.2 ms')
  })

  it('durations, dollars and changes', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(2400)).toBe('2.40 s')
    expect(formatDuration(185_000)).toBe('3 min 5 s')
    expect(formatUsd(0.000123)).toBe('$0.00012')
    expect(formatUsd(1234.5)).toBe('$1,234.50')
    expect(formatChange(112, 100)).toEqual({ text: '+12%', trend: 'up' })
    expect(formatChange(1, 0)).toEqual({ text: 'new', trend: 'up' })
  })
})
