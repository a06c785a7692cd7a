import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // The dashboard's own aliases, for its unit tests (pure modules; no SvelteKit runtime).
    alias: {
      $lib: fileURLToPath(new URL('./dashboard/src/lib', import.meta.url)),
      $shared: fileURLToPath(new URL('./shared', import.meta.url)),
    },
  },
  test: {
    include: ['{shared,functions,server,scripts,tests}/**/*.test.ts', 'dashboard/src/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts', 'tests/support/edge-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
