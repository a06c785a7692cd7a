// See https://svelte.dev/docs/kit/types#app.d.ts
import type { Operator } from '$lib/server/operators'

declare global {
  namespace App {
    interface Error {
      message: string
      /** Stable code, as in the JSON API's `{ error: { code } }`. */
      code?: string
      trace_id?: string
    }
    interface Locals {
      /** Set by hooks.server.ts once the request carried an operator session or bearer credential. */
      operator: boolean
      /** Who that is and their role (operators.ts); null for anonymous visitors. */
      identity?: Operator | null
      /** identity.name: an e-mail address, the name typed at a shared-token login, or 'api token'. Recorded with flag changes. */
      operatorName?: string | null
      /** When the session (or a Bearer access token) ends (ms); null for the shared token as Bearer. Long-lived streams check it. */
      sessionExpiresAt?: number | null
    }
  }
}

export {}
