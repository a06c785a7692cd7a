import { streamChat, type ChatEvent, type DoneEvent, type OpenEvent } from '$shared/client/index'

export interface Turn {
  key: string
  role: 'user' | 'assistant'
  text: string
  status: 'streaming' | 'done' | 'error' | 'stopped'
  traceId: OpenEvent['trace_id'] | null
  transport: OpenEvent['transport'] | null
  /** Reconnection story of this answer ("reconnecting…", "resumed from #42"), shown under it. */
  note: string
  error: string
  clientTtfbMs: DoneEvent['client_ttfb_ms']
  serverTtfbMs: DoneEvent['ttfb_ms']
}

export interface Conversation {
  /** The chat session_id the function stores messages under. */
  id: string
  title: string
  turns: Turn[]
  updatedAt: number
}

const storageKey = (userId: string) => `streamscope.chat.${userId}`

/**
 * The user's conversations, kept in this browser (the functions store every message, but a page
 * served from any static host has no API to list them back). One answer streams at a time.
 */
export class Conversations {
  list = $state<Conversation[]>([])
  currentId = $state('')
  busy = $state(false)
  #controller: AbortController | null = null

  constructor(
    private readonly userId: string,
    private readonly apiBase: string,
    private readonly getToken: () => Promise<string | null>,
  ) {
    try {
      this.list = JSON.parse(localStorage.getItem(storageKey(userId)) ?? '[]') as Conversation[]
    } catch {
      this.list = []
    }
    // A reload while streaming leaves nothing streaming: mark what was cut off.
    for (const c of this.list) for (const t of c.turns) if (t.status === 'streaming') t.status = 'stopped'
    if (this.list.length === 0) this.create()
    else this.currentId = this.list[0]!.id
  }

  get current(): Conversation {
    return this.list.find((c) => c.id === this.currentId) ?? this.list[0]!
  }

  create(): void {
    const conversation: Conversation = { id: crypto.randomUUID(), title: 'New chat', turns: [], updatedAt: Date.now() }
    this.list.unshift(conversation)
    this.currentId = conversation.id
    this.save()
  }

  select(id: string): void {
    if (!this.busy) this.currentId = id
  }

  async send(content: string): Promise<void> {
    if (this.busy || content.trim() === '') return
    this.busy = true
    const conversation = this.current
    if (conversation.turns.length === 0) conversation.title = content.slice(0, 60)
    conversation.turns.push(newTurn('user', content, 'done'), newTurn('assistant', '', 'streaming'))
    // The proxied element, so every change below re-renders.
    const turn = conversation.turns.at(-1)!
    this.#controller = new AbortController()
    try {
      const stream = streamChat({
        url: this.apiBase,
        getToken: this.getToken,
        session_id: conversation.id,
        content,
        signal: this.#controller.signal,
        // Client-side TTFB lands on the answer's trace beside the server's.
        beaconUrl: `${this.apiBase.replace(/\/+$/, '')}/functions/v1/chat/beacon`,
      })
      for await (const event of stream) applyEvent(turn, event)
    } finally {
      conversation.updatedAt = Date.now()
      this.busy = false
      this.#controller = null
      this.save()
    }
  }

  stop(): void {
    this.#controller?.abort(new Error('stopped'))
  }

  private save(): void {
    localStorage.setItem(storageKey(this.userId), JSON.stringify($state.snapshot(this.list)))
  }
}

function newTurn(role: Turn['role'], text: string, status: Turn['status']): Turn {
  return { key: crypto.randomUUID(), role, text, status, traceId: null, transport: null, note: '', error: '', clientTtfbMs: null, serverTtfbMs: null }
}

const REASONS: Record<string, string> = {
  network: 'network error',
  stream_cut: 'connection lost',
  sequence_gap: 'a frame went missing',
  status_429: 'rate limited',
  status_5xx: 'server error',
  status_408: 'timeout',
  fallback_http: 'switching to plain HTTP',
}

/** How each client event shows on an answer. */
export function applyEvent(turn: Turn, event: ChatEvent): void {
  switch (event.type) {
    case 'open':
      turn.traceId = event.trace_id
      turn.transport = event.transport
      break
    case 'delta':
      turn.text += event.text
      break
    case 'retry':
      turn.note = `reconnecting… (${REASONS[event.reason] ?? event.reason}; attempt ${event.attempt}, in ${Math.round(event.delay_ms)} ms)`
      break
    case 'resume':
      turn.note = `reconnected: resumed from #${event.from_seq}`
      break
    case 'gone':
      turn.note = event.action === 'restart'
        ? `the server no longer has this answer (after #${event.last_seq}); asking again`
        : `the server no longer has the rest of this answer (after #${event.last_seq}); what arrived is kept`
      break
    case 'done':
      turn.status = 'done'
      turn.clientTtfbMs = event.client_ttfb_ms
      turn.serverTtfbMs = event.ttfb_ms
      break
    case 'error':
      if (event.trace_id) turn.traceId = event.trace_id
      if (event.code === 'aborted') {
        turn.status = 'stopped'
      } else {
        turn.status = 'error'
        turn.error = `${event.message} (${event.code})`
      }
      break
  }
}
