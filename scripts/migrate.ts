// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded PostgreSQL of `npm start`.
import { migrate } from '../shared/db/migrate.ts'
import { LOCAL_DB_DIR, openDatabase } from '../server/database.ts'
import { readMigrations } from '../server/migrations.ts'

const db = await openDatabase(process.env.DATABASE_URL, process.env.LOCAL_DB_DIR ?? LOCAL_DB_DIR)
try {
  const applied = await migrate(db.sql, await readMigrations())
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the database is up to date')
} finally {
  await db.close()
}
