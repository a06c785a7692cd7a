import { describe, expect, it } from 'vitest'
import { createJwtVerifier } from '../shared/auth/jwt.ts'
import { DEV_JWT_SECRET } from './dev-defaults.ts'
import { createLocalAuth, localAuthEnabled, userIdFromEmail } from './local-auth.ts'

const post = (body: string, type = 'application/json') =>
  new Request('http://local.test/local-auth/token', { method: 'POST', headers: { 'content-type': type }, body })

describe('local auth', () => {
  it('signs a user token the functions accept, with one stable id per email', async () => {
    const auth = createLocalAuth({ jwtSecret: DEV_JWT_SECRET, enabled: true })
    const res = await auth(post(JSON.stringify({ email: ' Ada@Example.com ' })))
    expect(res.status).toBe(200)
    const body = await res.json()
    const user = await createJwtVerifier({ jwtSecret: DEV_JWT_SECRET, jwtAudience: 'authenticated', jwksUrl: '' })(`Bearer ${body.access_token}`)
    expect(user.userId).toBe(body.user.id)
    expect(body.user).toMatchObject({ email: 'ada@example.com' })
    expect(body.user.id).toBe(await userIdFromEmail('ada@example.com'))
    expect(body.user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(await userIdFromEmail('bob@example.com')).not.toBe(body.user.id)
  })

  it('answers bad input with 4xx JSON', async () => {
    const auth = createLocalAuth({ jwtSecret: DEV_JWT_SECRET, enabled: true })
    const cases: [Request, number, string][] = [
      [post('{'), 400, 'invalid_json'],
      [post('{"email":"nope"}'), 400, 'invalid_request'],
      [post('[]'), 400, 'invalid_request'],
      [post('null'), 400, 'invalid_request'],
      [post('{"email":"a@b"}', 'text/plain'), 415, 'unsupported_media_type'],
      [new Request('http://local.test/local-auth/token'), 405, 'method_not_allowed'],
      [new Request('http://local.test/local-auth/other', { method: 'POST' }), 404, 'not_found'],
    ]
    for (const [req, status, code] of cases) {
      const res = await auth(req)
      expect([res.status, (await res.json()).error.code]).toEqual([status, code])
    }
  })

  it('is off unless the secret is the development default or LOCAL_AUTH=1', async () => {
    expect(localAuthEnabled({}, DEV_JWT_SECRET)).toBe(true)
    expect(localAuthEnabled({ LOCAL_AUTH: '0' }, DEV_JWT_SECRET)).toBe(false)
    expect(localAuthEnabled({}, 'x'.repeat(40))).toBe(false)
    expect(localAuthEnabled({ LOCAL_AUTH: '1' }, 'x'.repeat(40))).toBe(true)
    const res = await createLocalAuth({ jwtSecret: 'x'.repeat(40), enabled: false })(post('{"email":"a@b.c"}'))
    expect(res.status).toBe(404)
  })
})
