// The README's configuration table is hand-written; this holds it to what the config reads: every
// variable the entries' config readers look at has a row, and every row names a variable they read.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { readConfig, type Env } from '../shared/config.ts'
import { readServerConfig } from '../server/config.ts'
import { dashboardOnlySettings } from '../server/dashboard-only-env.ts'

const README = new URL('../README.md', import.meta.url)

/** An empty environment that notes every variable asked of it. */
function recording(seen: Set<string>): Env {
  return new Proxy({} as Env, { get: (target, key) => { if (typeof key === 'string') seen.add(key); return target[key as string] } })
}

/** What `npm start`, `npm run dashboard` (development and production) and the Deno entries read. */
function variablesRead(): string[] {
  const seen = new Set<string>()
  const attempts: (() => unknown)[] = [
    () => readServerConfig(recording(seen)),
    () => dashboardOnlySettings(recording(seen), []),
    () => dashboardOnlySettings(recording(seen), ['--production']),
    () => readConfig(recording(seen)),
  ]
  // A refusal (no DATABASE_URL, no keys) comes after every variable was read.
  for (const attempt of attempts) try { attempt() } catch { /* listed problems only */ }
  return [...seen].filter((key) => /^[A-Z][A-Z0-9_]*$/.test(key)).sort()
}

function variablesDocumented(): string[] {
  const text = readFileSync(README, 'utf8')
  const section = text.slice(text.indexOf('\n## Configuration'), text.indexOf('\n## ', text.indexOf('\n## Configuration') + 1))
  const names = section.split('\n').filter((line) => line.startsWith('| `'))
    .flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!))
  return [...new Set(names)].sort()
}

it('lists in the README\'s configuration table exactly the variables the config reads', () => {
  const read = variablesRead()
  const documented = variablesDocumented()
  expect(read.length).toBeGreaterThan(50)
  expect({ missingFromReadme: read.filter((v) => !documented.includes(v)), notReadByConfig: documented.filter((v) => !read.includes(v)) })
    .toEqual({ missingFromReadme: [], notReadByConfig: [] })
})
