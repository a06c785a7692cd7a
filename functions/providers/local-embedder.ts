import type { EmbeddingProvider, EmbeddingRequest, EmbeddingResult } from './embeddings.ts'
import { countTokens } from './tokens.ts'

// Feature hashing ("the hashing trick"): every word and every character trigram of the text adds
// ±1 to one of `dimension` buckets, chosen and signed by two independent hashes, and the vector is
// L2-normalised. Texts sharing words and word fragments share buckets, so cosine similarity
// tracks lexical overlap. No model, no download, no network: the same text gives the same vector
// on every runtime, which is what a demo, a test and an offline deployment need. Not semantic:
// "car" and "automobile" are unrelated here.

const WORD_WEIGHT = 1
const TRIGRAM_WEIGHT = 0.5

/** FNV-1a over UTF-16 code units, with a seed so one feature gets independent bucket and sign. */
function hash(text: string, seed: number): number {
  let h = (2166136261 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  // Final avalanche (murmur3 fmix32): FNV alone leaves the low bits, the ones `%` keeps, weak.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export function toLocalVector(text: string, dimension: number): number[] {
  const v = new Float64Array(dimension)
  const add = (feature: string, weight: number) => {
    const bucket = hash(feature, 0) % dimension
    v[bucket] += (hash(feature, 0x9e3779b9) & 1 ? 1 : -1) * weight
  }
  const words = text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
  for (const word of words) {
    add(`w:${word}`, WORD_WEIGHT)
    const padded = ` ${word} `
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT)
  }
  let norm = 0
  for (const x of v) norm += x * x
  norm = Math.sqrt(norm)
  // An empty (or punctuation-only) text has no features: the zero vector, not NaNs.
  return Array.from(v, (x) => (norm ? x / norm : 0))
}

export function createLocalEmbeddingProvider(): EmbeddingProvider {
  return {
    name: 'local',
    async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
      request.signal.throwIfAborted()
      return {
        vectors: request.inputs.map((text) => toLocalVector(text, request.dimension)),
        model: request.model,
        usage: { input_tokens: request.inputs.reduce((n, s) => n + countTokens(s), 0), estimated: true },
      }
    },
  }
}
