import { describe, expect, it } from 'vitest'
import { MAX_METADATA_DEPTH, validateEmbedInput, type EmbedLimits } from './validate.ts'

const LIMITS: EmbedLimits = { maxInputs: 3, maxInputChars: 10, maxTotalChars: 25, maxMetadataBytes: 40 }
const DOC = '0b7c3c8e-4a3f-4c55-9f0e-2f5d1a6b7c8d'

describe('validateEmbedInput', () => {
  it('accepts one string, an array, a document id and metadata', () => {
    expect(validateEmbedInput({ input: 'hello' }, LIMITS)).toEqual({ ok: true, value: { kind: 'document', inputs: ['hello'], metadata: {} } })
    expect(validateEmbedInput({ input: ['a', 'b'], document_id: DOC.toUpperCase(), metadata: { k: 1 } }, LIMITS)).toEqual({
      ok: true, value: { kind: 'document', inputs: ['a', 'b'], document_id: DOC, metadata: { k: 1 } },
    })
    expect(validateEmbedInput({ input: 'x', document_id: null, metadata: null }, LIMITS)).toMatchObject({ ok: true })
    expect(validateEmbedInput({ message_id: DOC }, LIMITS)).toEqual({ ok: true, value: { kind: 'message', message_id: DOC } })
  })

  const cases: [string, unknown, 'invalid_request' | 'content_too_large'][] = [
    ['not an object', 'text', 'invalid_request'],
    ['an array body', [{ input: 'x' }], 'invalid_request'],
    ['null body', null, 'invalid_request'],
    ['nothing to embed', {}, 'invalid_request'],
    ['input a number', { input: 3 }, 'invalid_request'],
    ['input an object', { input: { text: 'x' } }, 'invalid_request'],
    ['empty array', { input: [] }, 'invalid_request'],
    ['empty string', { input: '' }, 'invalid_request'],
    ['blank string in array', { input: ['ok', '  \n'] }, 'invalid_request'],
    ['non-string in array', { input: ['ok', null] }, 'invalid_request'],
    ['NUL in input', { input: 'a\u0000b' }, 'invalid_request'],
    ['document_id not a UUID', { input: 'x', document_id: 'doc-1' }, 'invalid_request'],
    ['document_id a number', { input: 'x', document_id: 7 }, 'invalid_request'],
    ['metadata an array', { input: 'x', metadata: [1] }, 'invalid_request'],
    ['metadata a string', { input: 'x', metadata: 'm' }, 'invalid_request'],
    ['NUL in metadata', { input: 'x', metadata: { k: 'a\u0000' } }, 'invalid_request'],
    ['message_id not a UUID', { message_id: '12' }, 'invalid_request'],
    ['message_id and input', { message_id: DOC, input: 'x' }, 'invalid_request'],
    ['message_id and document_id', { message_id: DOC, document_id: DOC }, 'invalid_request'],
    ['too many inputs', { input: ['a', 'b', 'c', 'd'] }, 'content_too_large'],
    ['one input too long', { input: ['ok', 'x'.repeat(11)] }, 'content_too_large'],
    ['too much in total', { input: ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(6)] }, 'content_too_large'],
    ['metadata too large', { input: 'x', metadata: { k: 'v'.repeat(40) } }, 'content_too_large'],
    ['malformed beats oversize', { input: ['x'.repeat(11), 5] }, 'invalid_request'],
  ]
  for (const [name, body, code] of cases) {
    it(`${name} → ${code}`, () => {
      const r = validateEmbedInput(body, LIMITS)
      expect(r).toEqual({ ok: false, code, message: expect.any(String) })
    })
  }

  it('refuses metadata nested deeper than MAX_METADATA_DEPTH, however deep, without a stack overflow', () => {
    const nested = (depth: number) => {
      let m: unknown = 1
      for (let i = 0; i < depth; i++) m = { a: m }
      return m
    }
    const roomy = { ...LIMITS, maxMetadataBytes: 1 << 20 }
    expect(validateEmbedInput({ input: 'x', metadata: nested(MAX_METADATA_DEPTH) }, roomy)).toMatchObject({ ok: true })
    for (const depth of [MAX_METADATA_DEPTH + 1, 3000, 100_000]) {
      expect(validateEmbedInput({ input: 'x', metadata: nested(depth) }, roomy)).toEqual({
        ok: false, code: 'invalid_request', message: expect.stringMatching(new RegExp(`^metadata nests deeper than ${MAX_METADATA_DEPTH} levels`)),
      })
    }
  })

  it('refuses a lone surrogate (what JSON.parse makes of "\\ud800") in input or metadata, keys included', () => {
    const lone = JSON.parse('"\\ud800"') as string
    for (const body of [
      { input: `a${lone}` }, { input: ['ok', lone] },
      { input: 'x', metadata: { k: lone } }, { input: 'x', metadata: { list: [1, `b${lone}`] } }, { input: 'x', metadata: { [lone]: 1 } },
    ]) {
      expect(validateEmbedInput(body, LIMITS), JSON.stringify(body)).toEqual({ ok: false, code: 'invalid_request', message: expect.stringMatching(/well-formed Unicode/) })
    }
    expect(validateEmbedInput({ input: 'a 🙂 b', metadata: { k: '🙂' } }, LIMITS)).toMatchObject({ ok: true })
  })

  it('accepts a backslash-u0000 written as text in metadata', () => {
    expect(validateEmbedInput({ input: 'x', metadata: { k: '\\u0000' } }, LIMITS)).toMatchObject({ ok: true })
  })
})
