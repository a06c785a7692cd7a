// Run under real Deno by resume.test.ts: the client library needs nothing but web standards.
// Prints the chat's result as one JSON line.
import { streamChat } from '../../shared/client/index.ts'

// Deno's own global; declared here so the repo's Node type check reads this file too.
declare const Deno: { args: string[] }

const [url, token, sessionId] = Deno.args
const result = await streamChat({ url: url!, getToken: () => token, session_id: sessionId!, content: 'hello from deno', baseDelayMs: 10 }).result
console.log(JSON.stringify(result))
