import { fail, redirect } from '@sveltejs/kit'
import { env } from '$env/dynamic/private'
import { SESSION_COOKIE, SESSION_TTL_MS, cleanName, cookieOptions, createSession, safeNext, tokenMatches } from '$lib/server/auth'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.operator) redirect(303, safeNext(url.searchParams.get('next')))
  return { configured: Boolean(env.OPERATOR_TOKEN) }
}

export const actions: Actions = {
  default: async ({ request, cookies, url }) => {
    const token = env.OPERATOR_TOKEN ?? ''
    if (!token) return fail(503, { error: 'OPERATOR_TOKEN is not set on the server, so nobody can log in.', name: '' })
    const form = await request.formData()
    const candidate = form.get('token')
    const name = form.get('name')
    if (typeof candidate !== 'string' || !tokenMatches(candidate.trim(), token)) {
      return fail(401, { error: 'That is not the operator token.', name: typeof name === 'string' ? name : '' })
    }
    const session = createSession(token, cleanName(typeof name === 'string' ? name : ''))
    cookies.set(SESSION_COOKIE, session.value, {
      ...cookieOptions(request),
      expires: session.expires,
      maxAge: SESSION_TTL_MS / 1000,
    })
    redirect(303, safeNext(url.searchParams.get('next')))
  },
}
