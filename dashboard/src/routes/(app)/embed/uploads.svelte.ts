import { ClientError, embedTexts } from '$shared/client/index'
import { splitForEmbedding } from './split'

export interface StoredDocument {
  document_id: string
  name: string
  chars: number
  inputs: number
  ids: string[]
  model: string | null
  dimension: number | null
  input_tokens: number
  trace_id: string | null
  stored_at: string
}

export interface Pending {
  file: File
  status: 'queued' | 'embedding' | 'stored' | 'failed'
  error: string
}

const storageKey = (userId: string) => `streamscope.embed.${userId}`

/**
 * Files dropped on the page, embedded one document per file. The embed function has no listing
 * endpoint, so what was stored is remembered here from its answers (ids, model, trace_id).
 */
export class Uploads {
  pending = $state<Pending[]>([])
  stored = $state<StoredDocument[]>([])
  /** Inputs embedded / to embed, across the whole upload. */
  done = $state(0)
  total = $state(0)
  busy = $state(false)
  note = $state('')

  constructor(
    private readonly userId: string,
    private readonly apiBase: string,
    private readonly getToken: () => Promise<string | null>,
  ) {
    try {
      this.stored = JSON.parse(localStorage.getItem(storageKey(userId)) ?? '[]') as StoredDocument[]
    } catch {
      this.stored = []
    }
  }

  add(files: Iterable<File>): void {
    for (const file of files) this.pending.push({ file, status: 'queued', error: '' })
  }

  async upload(): Promise<void> {
    if (this.busy) return
    const queue = this.pending.filter((p) => p.status === 'queued' || p.status === 'failed')
    if (queue.length === 0) return
    this.busy = true
    this.note = ''
    try {
      const texts = await Promise.all(queue.map((p) => p.file.text()))
      const inputs = texts.map((t) => splitForEmbedding(t))
      this.done = 0
      this.total = inputs.reduce((n, i) => n + i.length, 0)
      for (const [i, item] of queue.entries()) {
        const pieces = inputs[i]!
        if (pieces.length === 0) {
          item.status = 'failed'
          item.error = 'the file has no text'
          continue
        }
        item.status = 'embedding'
        const before = this.done
        try {
          const result = await embedTexts({
            url: this.apiBase,
            getToken: this.getToken,
            input: pieces,
            // One file, one document: a retry replaces it instead of storing it twice.
            document_id: crypto.randomUUID(),
            metadata: { filename: item.file.name, bytes: item.file.size, type: item.file.type || 'text/plain' },
            onProgress: ({ done }) => { this.done = before + done },
            onRetry: (e) => { this.note = `retrying ${item.file.name} (attempt ${e.attempt}, ${e.reason})…` },
          })
          this.stored.unshift({
            document_id: result.document_ids[0]!,
            name: item.file.name,
            chars: texts[i]!.length,
            inputs: pieces.length,
            ids: result.ids,
            model: result.model,
            dimension: result.dimension,
            input_tokens: result.usage.input_tokens,
            trace_id: result.batches[0]?.trace_id ?? null,
            stored_at: new Date().toISOString(),
          })
          item.status = 'stored'
          this.note = ''
        } catch (err) {
          item.status = 'failed'
          item.error = err instanceof ClientError
            ? `${err.message} (${err.code}${err.trace_id ? `, trace ${err.trace_id}` : ''})`
            : String((err as Error)?.message ?? err)
          this.done = before + pieces.length
        }
      }
      localStorage.setItem(storageKey(this.userId), JSON.stringify($state.snapshot(this.stored)))
      this.pending = this.pending.filter((p) => p.status !== 'stored')
    } finally {
      this.busy = false
    }
  }

  forget(documentId: string): void {
    this.stored = this.stored.filter((d) => d.document_id !== documentId)
    localStorage.setItem(storageKey(this.userId), JSON.stringify($state.snapshot(this.stored)))
  }
}
