// supabase/functions/deno.json is what `supabase functions deploy` resolves bare imports with;
// package.json is what Node, vitest and the local Deno test use. They must name the same
// versions, and every package the deployed graph imports must be mapped.
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const importMap: { imports: Record<string, string> } = JSON.parse(readFileSync(join(ROOT, 'supabase/functions/deno.json'), 'utf8'))
const config = readFileSync(join(ROOT, 'supabase/config.toml'), 'utf8')
const ENTRIES = [...config.matchAll(/^entrypoint\s*=\s*"\.\/(.+)"$/gm)].map((m) => join(ROOT, 'supabase', m[1]))

/** Every bare specifier imported by the files reachable from the entries (static imports). */
function bareImports(entries: string[]): Map<string, string> {
  const seen = new Set<string>()
  const bare = new Map<string, string>() // specifier -> first importer
  const queue = [...entries]
  while (queue.length) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2]
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec))
      else if (!spec.startsWith('node:') && !bare.has(spec)) bare.set(spec, file.slice(ROOT.length))
    }
  }
  return bare
}

describe('supabase/functions/deno.json', () => {
  it('is referenced as the import map of every function in supabase/config.toml', () => {
    const sections = config.split(/^\[functions\./m).slice(1)
    expect(sections.length).toBeGreaterThanOrEqual(2)
    for (const s of sections) expect(s).toMatch(/^import_map\s*=\s*"\.\/functions\/deno\.json"$/m)
    expect(ENTRIES.length).toBe(sections.length)
  })

  it('maps each package to npm: at exactly the version package.json pins, or to its patched copy of that version', () => {
    for (const [name, target] of Object.entries(importMap.imports)) {
      const version = pkg.dependencies[name]
      expect(version, `${name} is not a dependency in package.json`).toBeDefined()
      if (!target.startsWith('./_vendor/')) { expect(target).toBe(`npm:${name}@${version}`); continue }
      // scripts/vendor-postgres.ts, from the installed package (tests/deno/driver.test.ts: not stale)
      expect(target).toBe(`./_vendor/${name}/src/index.js`)
      expect(readFileSync(join(ROOT, 'supabase/functions', target), 'utf8')).toContain(`// ${name}@${version} with patches/`)
    }
  })

  it('maps every bare import of the deployed functions', () => {
    const bare = bareImports(ENTRIES)
    expect(bare.has('postgres')).toBe(true) // the walker does reach the code
    for (const [spec, importer] of bare) {
      expect(importMap.imports[spec], `${spec} (imported by ${importer}) is not in supabase/functions/deno.json`).toBeDefined()
    }
  })
})
