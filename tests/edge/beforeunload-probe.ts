// Loaded into every isolate by lifecycle.test.ts (`npm run edge -- --preload …`), beside the entry:
// prints the shutdown events the isolate's global scope receives, in the order they come.
addEventListener('beforeunload', (event) => {
  console.error(`probe: beforeunload ${(event as CustomEvent<{ reason?: string }>).detail?.reason}`)
})
addEventListener('unload', () => console.error('probe: unload'))
export {}
