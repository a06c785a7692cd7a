import { describe, expect, it } from 'vitest'
import { MAX_BODY_DEPTH, readJsonBody } from './body.ts'

const post = (body: string) => new Request('http://x/', { method: 'POST', body, headers: { 'content-type': 'application/json' } })

describe('readJsonBody', () => {
  it('parses a JSON body', async () => {
    expect(await readJsonBody(post('{"a":[1,{"b":"c"}]}'), 1000)).toEqual({ ok: true, value: { a: [1, { b: 'c' }] } })
  })

  it('refuses a body nested deeper than MAX_BODY_DEPTH, however deep, as a 400', async () => {
    const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
    expect(await readJsonBody(post(arrays(MAX_BODY_DEPTH)), 1 << 22)).toMatchObject({ ok: true })
    for (const depth of [MAX_BODY_DEPTH + 1, 3000, 1_000_000]) {
      expect(await readJsonBody(post(`{"extra":${arrays(depth)}}`), 1 << 22)).toEqual({
        ok: false, code: 'invalid_request', message: expect.stringMatching(new RegExp(`^body nests deeper than ${MAX_BODY_DEPTH} levels`)),
      })
    }
  })

  it('leaves strings to the validators (which name the field)', async () => {
    expect(await readJsonBody(post('{"content":"a\\u0000b\\ud800"}'), 1000)).toEqual({ ok: true, value: { content: 'a\u0000b\ud800' } })
  })

  it('refuses invalid UTF-8, invalid JSON and an oversize body', async () => {
    expect(await readJsonBody(new Request('http://x/', { method: 'POST', body: new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]) }), 100)).toMatchObject({ ok: false, code: 'invalid_json' })
    expect(await readJsonBody(post('{"a":'), 100)).toMatchObject({ ok: false, code: 'invalid_json' })
    expect(await readJsonBody(post('"' + 'x'.repeat(200) + '"'), 100)).toMatchObject({ ok: false, code: 'content_too_large' })
  })
})
