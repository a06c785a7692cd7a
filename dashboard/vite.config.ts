import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

const dashboardDir = resolve(fileURLToPath(new URL('.', import.meta.url)))

/** `vite build dashboard` passes root as a relative path; SvelteKit would warn that it overrides it. */
const absoluteRoot: Plugin = {
  name: 'dashboard-absolute-root',
  enforce: 'pre',
  config: { order: 'pre', handler: () => ({ root: dashboardDir }) },
}

export default defineConfig(async () => {
  // `vite build dashboard` runs from the repo root, but SvelteKit finds svelte.config.js,
  // src/ and .svelte-kit/ through process.cwd(), some of it captured when its plugin
  // module is first evaluated: move into the dashboard before importing it. (SvelteKit
  // reloads this file in a worker thread, where chdir is not allowed and not needed.)
  if (process.cwd() !== dashboardDir) process.chdir(dashboardDir)
  const { sveltekit } = await import('@sveltejs/kit/vite')
  return {
    plugins: [absoluteRoot, sveltekit()],
    // SvelteKit's writeBundle runs the server build and the adapter, so it is always
    // "slow"; the timing report would only add noise to every server start.
    build: { rolldownOptions: { checks: { pluginTimings: false } } },
  }
})
