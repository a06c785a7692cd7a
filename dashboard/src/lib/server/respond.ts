import { json } from '@sveltejs/kit'
import { apiError } from './api'
import { DatabaseError, readTelemetry } from './db'
import type { Db } from './rollups'

/** A JSON API read: the data, or the API's error shape when the database fails. */
export async function jsonRead<T>(run: (sql: Db) => Promise<T>): Promise<Response> {
  try {
    return json(await readTelemetry(run))
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message)
    throw err
  }
}

/** A JSON API answer from a page-level loader (which opens its own transactions). */
export async function jsonOf<T>(load: () => Promise<T>): Promise<Response> {
  try {
    return json(await load())
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message)
    throw err
  }
}
