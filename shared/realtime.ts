// The Realtime channel a user's chat.done is announced on. The topic names the user because a
// session id is neither secret nor owned (anyone may post into any session id; history is per
// user): migrations/20261204000300_realtime_chat_private.sql lets a signed-in user join only
// topics under `chat:<their auth.uid()>:`, and only as a private channel.

export const CHAT_DONE_EVENT = 'chat.done'

export const chatTopic = (userId: string, sessionId: string) => `chat:${userId}:${sessionId}`
