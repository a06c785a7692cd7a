// The functions' postgres.js, as Supabase deploys it: the installed (patched) driver's ESM source
// copied to supabase/functions/_vendor/postgres, which the functions' import map names.
//
// Supabase bundles an `npm:` import from the registry, so a patch applied to node_modules would
// not reach the deployed functions; a file under supabase/functions does. The copy is made by
// `npm ci` (postinstall, after patch-package), never edited, and not committed: the patch in
// patches/ is the one place the change is declared. Node built-ins get the `node:` prefix and the
// Node globals the driver uses are imported, as postgres.js's own Deno build does, so the copy
// runs on any Deno the edge runtime is built on.
//
//   tsx scripts/vendor-postgres.ts           writes the copy
//   tsx scripts/vendor-postgres.ts --check   exits 1 if the copy differs from what it would write
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const SOURCE = join(ROOT, 'node_modules/postgres')
export const VENDOR_DIR = join(ROOT, 'supabase/functions/_vendor/postgres')

const BUILTINS = ['crypto', 'fs', 'net', 'os', 'perf_hooks', 'stream', 'tls']
const GLOBALS: [RegExp, string][] = [
  [/\bBuffer\b/, "import { Buffer } from 'node:buffer'"],
  [/\b(setImmediate|clearImmediate)\b/, "import { setImmediate, clearImmediate } from 'node:timers'"],
  [/\bprocess\./, "import process from 'node:process'"],
]

/** One source file of the driver as the functions import it. */
export function denoModule(name: string, source: string, version: string): string {
  const body = source.replace(/from '([a-z_]+)'/g, (whole, module: string) => BUILTINS.includes(module) ? `from 'node:${module}'` : whole)
  const imports = GLOBALS.filter(([used]) => used.test(source)).map(([, line]) => line)
  const types = name === 'index.js' ? ['// @ts-self-types="../types/index.d.ts"'] : []
  return [...types, `// postgres@${version} with patches/, copied by scripts/vendor-postgres.ts; do not edit.`, ...imports, body].join('\n')
}

/** Every file of the copy, by path under VENDOR_DIR. */
export function vendoredFiles(): Map<string, string> {
  const { version } = JSON.parse(readFileSync(join(SOURCE, 'package.json'), 'utf8')) as { version: string }
  const files = new Map<string, string>()
  for (const name of readdirSync(join(SOURCE, 'src')).filter((n) => n.endsWith('.js')).sort()) {
    files.set(join('src', name), denoModule(name, readFileSync(join(SOURCE, 'src', name), 'utf8'), version))
  }
  files.set('types/index.d.ts', readFileSync(join(SOURCE, 'types/index.d.ts'), 'utf8'))
  return files
}

/** Paths whose content on disk differs from the copy (missing and extra files included). */
export function staleFiles(files = vendoredFiles()): string[] {
  const stale = [...files].filter(([path, text]) => !existsSync(join(VENDOR_DIR, path)) || readFileSync(join(VENDOR_DIR, path), 'utf8') !== text).map(([path]) => path)
  for (const dir of ['src', 'types']) {
    const onDisk = existsSync(join(VENDOR_DIR, dir)) ? readdirSync(join(VENDOR_DIR, dir)) : []
    stale.push(...onDisk.map((n) => join(dir, n)).filter((path) => !files.has(path)))
  }
  return stale
}

function write(files: Map<string, string>): void {
  rmSync(VENDOR_DIR, { recursive: true, force: true })
  for (const [path, text] of files) {
    mkdirSync(dirname(join(VENDOR_DIR, path)), { recursive: true })
    writeFileSync(join(VENDOR_DIR, path), text)
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles()
    if (stale.length > 0) {
      console.error(`supabase/functions/_vendor/postgres is not the installed driver (${stale.join(', ')}): run npm ci`)
      process.exit(1)
    }
  } else {
    write(vendoredFiles())
  }
}
