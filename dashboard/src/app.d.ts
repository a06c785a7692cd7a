// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Error {
      message: string
      /** Stable code, as in the JSON API's `{ error: { code } }`. */
      code?: string
      trace_id?: string
    }
    interface Locals {
      /** Set by hooks.server.ts once the request carried the operator token. */
      operator: boolean
      /** Who the operator said they are at login ('api token' for a bearer token): recorded with flag changes. */
      operatorName?: string | null
      /** When the cookie session ends (ms); null for a bearer token. Long-lived streams check it. */
      sessionExpiresAt?: number | null
    }
  }
}

export {}
