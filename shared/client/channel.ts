// A push source read as an async iterable: the chat loop pushes events as they happen and a
// consumer may iterate them at its own pace (or never, when it only uses callbacks).

export interface Channel<T> extends AsyncIterable<T> {
  push(value: T): void
  close(): void
}

export function createChannel<T>(onReturn: () => void): Channel<T> {
  const buffer: T[] = []
  let closed = false
  let wake: (() => void) | null = null
  let taken = false

  const notify = () => {
    const w = wake
    wake = null
    w?.()
  }

  return {
    push(value) {
      if (closed) return
      buffer.push(value)
      notify()
    },
    close() {
      closed = true
      notify()
    },
    [Symbol.asyncIterator]() {
      // One reader: a second iteration would silently see only the events the first one left.
      if (taken) throw new Error('a chat stream can be iterated only once')
      taken = true
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            if (buffer.length) return { done: false, value: buffer.shift()! }
            if (closed) return { done: true, value: undefined }
            await new Promise<void>((resolve) => { wake = resolve })
          }
        },
        async return(): Promise<IteratorResult<T>> {
          // Leaving a for-await early means nobody wants the rest: stop the request.
          if (!closed) onReturn()
          buffer.length = 0
          return { done: true, value: undefined }
        },
      }
    },
  }
}
