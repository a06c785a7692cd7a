import { describe, expect, it } from 'vitest'
import { createLocalEmbeddingProvider, toLocalVector } from './local-embedder.ts'
import { countTokens } from './tokens.ts'

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0)
const norm = (v: number[]) => Math.sqrt(cosine(v, v))

describe('local embedder', () => {
  const embed = (inputs: string[], dimension = 384) =>
    createLocalEmbeddingProvider().embed({ model: 'local-hash-384', inputs, dimension, signal: new AbortController().signal })

  it('gives the same vector for the same text, unit length, of the requested dimension', async () => {
    const a = await embed(['The stream keeps every token in order', 'The stream keeps every token in order'])
    expect(a.vectors[0]).toEqual(a.vectors[1])
    expect(a.vectors[0]).toHaveLength(384)
    expect(norm(a.vectors[0])).toBeCloseTo(1, 10)
    expect((await embed(['x y z'], 7)).vectors[0]).toHaveLength(7)
  })

  it('puts similar texts closer than unrelated ones', () => {
    const base = toLocalVector('How do I reset my password for the dashboard?', 384)
    const similar = toLocalVector('how can I reset the dashboard password', 384)
    const unrelated = toLocalVector('Quarterly revenue grew in the northern warehouses.', 384)
    expect(cosine(base, similar)).toBeGreaterThan(0.5)
    expect(cosine(base, similar)).toBeGreaterThan(cosine(base, unrelated) + 0.3)
  })

  it('ignores case and punctuation, and shares trigrams between word forms', () => {
    expect(toLocalVector('Hello, World!', 64)).toEqual(toLocalVector('hello world', 64))
    const stream = toLocalVector('streaming', 384)
    expect(cosine(stream, toLocalVector('streamed', 384))).toBeGreaterThan(cosine(stream, toLocalVector('banana', 384)))
  })

  it('gives the zero vector for text without words, never NaN', () => {
    expect(toLocalVector('  ?! ', 8)).toEqual(new Array(8).fill(0))
  })

  it('reports its name, the model asked for, and tokenizer-estimated usage', async () => {
    const p = createLocalEmbeddingProvider()
    expect(p.name).toBe('local')
    const r = await embed(['one two', 'three'])
    expect(r.model).toBe('local-hash-384')
    expect(r.usage).toEqual({ input_tokens: countTokens('one two') + countTokens('three'), estimated: true })
  })

  it('refuses to start when already aborted', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(createLocalEmbeddingProvider().embed({ model: 'm', inputs: ['x'], dimension: 4, signal: controller.signal })).rejects.toThrow('stop')
  })
})
