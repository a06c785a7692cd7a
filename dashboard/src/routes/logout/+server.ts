import { redirect } from '@sveltejs/kit'
import { SESSION_COOKIE, cookieOptions } from '$lib/server/auth'
import type { RequestHandler } from './$types'

// POST only: a link or an image could trigger a GET logout from another site.
export const POST: RequestHandler = ({ cookies, request }) => {
  cookies.delete(SESSION_COOKIE, cookieOptions(request))
  redirect(303, '/login')
}
