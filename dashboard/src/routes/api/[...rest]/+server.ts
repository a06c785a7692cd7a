import { apiError } from '$lib/server/api'
import type { RequestHandler } from './$types'

/** Unknown API paths answer in the API's error shape rather than with an HTML page. */
export const fallback: RequestHandler = ({ url }) => apiError('not_found', `no API route at ${url.pathname}`)
