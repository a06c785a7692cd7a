import { inject } from 'vitest'
import postgres, { type Sql } from 'postgres'

export interface TestDatabase {
  sql: Sql
  url: string
  drop(): Promise<void>
}

let counter = 0

/**
 * A database of its own for one test file, cloned from the migrated template
 * (tens of milliseconds), so files run in parallel without seeing each other's rows.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('pgUrl')
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name} template ${inject('templateDb')}`)
  const url = serverUrl.replace(/\/postgres$/, `/${name}`)
  const sql = postgres(url, { max: 5, onnotice: () => {} })
  return {
    sql,
    url,
    async drop() {
      await sql.end({ timeout: 1 })
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}
