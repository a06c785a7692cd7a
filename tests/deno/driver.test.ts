// The functions run the patched postgres.js wherever they are deployed: Supabase bundles what the
// import map names, and an `npm:postgres` import would come unpatched from the registry (the
// driver would pipeline through Supavisor and the isolate's queries hang: shared/db/open.ts).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { denoModule, staleFiles } from '../../scripts/vendor-postgres.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const FUNCTIONS = `${ROOT}supabase/functions`

it('has the installed, patched driver as the functions’ copy', () => {
  expect(staleFiles()).toEqual([])
})

it('gives the copy node: built-ins and the Node globals it uses', () => {
  const out = denoModule('x.js', "import net from 'net'\nimport Queue from './queue.js'\nBuffer.alloc(1); setImmediate(f)", '9.9.9')
  expect(out).toContain("from 'node:net'")
  expect(out).toContain("from './queue.js'")
  expect(out).toContain("import { Buffer } from 'node:buffer'")
  expect(out).toContain("import { setImmediate, clearImmediate } from 'node:timers'")
  expect(out).not.toContain('node:process')
})

it('resolves `postgres` in the functions to the copy, which runs sql.begin without pipelining', () => {
  const deno = `${ROOT}node_modules/.bin/deno`
  const probe = "import postgres from 'postgres'; console.log(JSON.stringify({ at: import.meta.resolve('postgres'), mark: postgres.BEGIN_WITHOUT_PIPELINE === true }))"
  const out = execFileSync(deno, ['eval', '--node-modules-dir=manual', probe], {
    cwd: FUNCTIONS, env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_NO_UPDATE_CHECK: '1' }, encoding: 'utf8',
  })
  expect(JSON.parse(out)).toEqual({ at: `file://${FUNCTIONS}/_vendor/postgres/src/index.js`, mark: true })
  const imports = JSON.parse(readFileSync(`${FUNCTIONS}/deno.json`, 'utf8')).imports as Record<string, string>
  expect(Object.values(imports).filter((target) => target.startsWith('npm:postgres'))).toEqual([])
})
