import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['{shared,functions,server,scripts,tests}/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
