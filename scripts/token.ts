// Prints a user JWT (HS256, Supabase-shaped) for JWT_SECRET or the local default.
import { parseArgs } from 'node:util'
import { signUserToken } from '../shared/auth/jwt.ts'
import { DEV_JWT_SECRET } from '../server/dev-defaults.ts'

const { values } = parseArgs({ options: { sub: { type: 'string' }, ttl: { type: 'string', default: '3600' } } })
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
if (!values.sub || !UUID.test(values.sub)) {
  console.error('usage: npm run -s token -- --sub <user uuid> [--ttl seconds]')
  process.exit(2)
}
const secret = process.env.JWT_SECRET ?? DEV_JWT_SECRET
console.log(await signUserToken(secret, values.sub, Number(values.ttl)))
