import type { ChatMessage } from '../providers/types.ts'

// OpenTelemetry GenAI conventions for recorded content: JSON arrays of messages made of
// parts. Only ever called when CAPTURE_CONTENT is on.

export const toInputMessages = (messages: ChatMessage[]) =>
  JSON.stringify(messages.map((m) => ({ role: m.role, parts: [{ type: 'text', content: m.content }] })))

export const toOutputMessages = (text: string, finishReason: string | null) =>
  JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: finishReason ?? 'error' }])
