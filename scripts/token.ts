// Prints a user JWT (HS256, Supabase-shaped) for JWT_SECRET or the local default.
// `--operator-role viewer|operator` puts app_metadata.streamscope_role in it, so it signs in
// to the dashboard as that person (paste it on the login page, or send it as a Bearer token).
import { parseArgs } from 'node:util'
import { signUserToken } from '../shared/auth/jwt.ts'
import { DEV_JWT_SECRET } from '../server/dev-defaults.ts'

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
    email: { type: 'string' },
    'operator-role': { type: 'string' },
  },
})
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const role = values['operator-role']
const ttl = Number(values.ttl)
if (!values.sub || !UUID.test(values.sub) || (role !== undefined && role !== 'viewer' && role !== 'operator') || !(ttl > 0)) {
  console.error('usage: npm run -s token -- --sub <user uuid> [--ttl seconds] [--email address] [--operator-role viewer|operator]')
  process.exit(2)
}
const claims: Record<string, unknown> = {}
if (values.email) claims.email = values.email
if (role) claims.app_metadata = { provider: 'email', providers: ['email'], streamscope_role: role }
const secret = process.env.JWT_SECRET ?? DEV_JWT_SECRET
console.log(await signUserToken(secret, values.sub, ttl, claims))
