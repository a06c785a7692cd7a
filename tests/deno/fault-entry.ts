// The chat entry as Supabase runs it, plus a rejection nobody handles once it listens: what a
// driver's dropped promise does in production (porsager/postgres#1192). Run by Deno only: the
// entry's path is a value, so Node's type check does not follow it into Deno's globals.
const entry = '../../supabase/functions/chat/index.ts'
await import(entry)
setTimeout(() => { Promise.reject(new Error('planted fault')) }, 0)
export {}
