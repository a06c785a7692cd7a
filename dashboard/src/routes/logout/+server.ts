import { redirect } from '@sveltejs/kit'
import { endSession } from '$lib/server/operator-auth'
import type { RequestHandler } from './$types'

// POST only: a link or an image could trigger a GET logout from another site.
export const POST: RequestHandler = async ({ cookies, request }) => {
  try {
    await endSession(cookies, request)
  } catch (err) {
    // The cookie is gone from this browser either way; the row expires on its own.
    console.error(`[dashboard] logout could not end the session on the server: ${(err as Error).message}`)
  }
  redirect(303, '/login')
}
