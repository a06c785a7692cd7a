import { errorResponse } from '../shared/http/errors.ts'

export type Handler = (req: Request) => Promise<Response>

/**
 * Routes `/functions/v1/<name>[/<sub-path>]` to its handler, as Supabase's gateway does
 * (a function sees its sub-paths too), so the local server answers the same URLs as a
 * deployed project.
 */
export function createFunctionsRouter(functions: Record<string, Handler>): Handler {
  return async (req) => {
    const name = new URL(req.url).pathname.match(/^\/functions\/v1\/([^/]+)(?:\/.*)?$/)?.[1]
    const handler = name ? functions[name] : undefined
    if (!handler) return errorResponse('not_found', `no function at ${new URL(req.url).pathname}`, crypto.randomUUID().replaceAll('-', ''))
    return handler(req)
  }
}
