import { fileURLToPath } from 'node:url'
import nodeAdapter from '@sveltejs/adapter-node'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

const node = nodeAdapter({ out: here('./build') })

/**
 * adapter-node reads package.json from the cwd to leave dependencies external. The
 * dashboard has none of its own (they live in the repo root), and the build runs with
 * the dashboard as cwd (see vite.config.ts), so adapt from the root.
 * @type {import('@sveltejs/kit').Adapter}
 */
const adapter = {
  ...node,
  async adapt(builder) {
    const cwd = process.cwd()
    process.chdir(here('..'))
    try {
      await node.adapt(builder)
    } finally {
      process.chdir(cwd)
    }
  },
}

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    adapter,
    csrf: {
      // SvelteKit's check compares Origin with the URL adapter-node derives, which says https
      // unless ORIGIN is set, and the outer server does not set it. hooks.server.ts checks
      // that form posts come from this host instead.
      trustedOrigins: ['*'],
    },
    alias: {
      // domain code shared with the functions (attribute keys); nothing runtime-specific
      $shared: '../shared',
    },
  },
}
