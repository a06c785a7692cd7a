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
    }
  }
}

export {}
