// What a client may hand to Postgres as text or jsonb, checked before any query is sent.
// Postgres refuses NUL in both; jsonb refuses a lone UTF-16 surrogate (the \ud800 escape
// JSON.stringify writes for one), and text would get it as U+FFFD (what UTF-8 encoding
// makes of it), silently altered. JSON.parse turns a "\ud800" escape into exactly such a
// string, so valid JSON can carry either. Runtime-neutral: Node and Deno alike.

// In u-mode a surrogate pair is one code point, so only an unpaired half matches.
const LONE_SURROGATE = /[\ud800-\udfff]/u

/** Well-formed UTF-16 (no lone surrogate), by the regular expression. */
export const isWellFormedByPattern = (text: string): boolean => !LONE_SURROGATE.test(text)

type WellFormedString = string & { isWellFormed?: () => boolean }
const native = typeof (String.prototype as WellFormedString).isWellFormed === 'function'

/** Well-formed UTF-16 (no lone surrogate): String.prototype.isWellFormed where the runtime has it. */
export const isWellFormed: (text: string) => boolean = native
  ? (text) => (text as WellFormedString).isWellFormed!()
  : isWellFormedByPattern

/** Why Postgres cannot take `text` as it is (a phrase to follow the field's name), or null. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters'
  if (!isWellFormed(text)) return 'must be well-formed Unicode (it holds a lone surrogate)'
  return null
}

/** At most `max` UTF-16 units of `text`, one fewer rather than half a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text
  return text.slice(0, (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max)
}

export interface JsonBounds {
  /** Most arrays and objects nested in one another; the value itself is level 1. */
  maxDepth: number
  /** Also check every string and key with textProblem (default true). */
  text?: boolean
}

interface Node {
  value: unknown
  depth: number
  parent: Node | null
  key: string | number
}

const MAX_PATH = 120

/** Where a node sits, as `name.key[3].key`: built only when there is something to report. */
function pathOf(node: Node, name: string): string {
  const parts: string[] = []
  for (let n: Node | null = node; n?.parent; n = n.parent) {
    parts.push(typeof n.key === 'number' ? `[${n.key}]` : /^[A-Za-z_][\w-]*$/.test(n.key) ? `.${n.key}` : `[${JSON.stringify(n.key)}]`)
  }
  const path = name + parts.reverse().join('')
  return path.length > MAX_PATH ? `${clip(path, MAX_PATH)}…` : path
}

/**
 * The first thing in a parsed JSON value that nests deeper than `maxDepth` or that Postgres
 * could not store (see textProblem), as a sentence starting with `name` and the path; null
 * when there is none. A loop over an explicit stack, so no nesting can overflow the call
 * stack (JSON.parse accepts any depth; recursive readers of its result do not). Paths hold
 * only keys already checked, so a message never echoes a bad string.
 */
export function jsonProblem(value: unknown, name: string, bounds: JsonBounds): string | null {
  const text = bounds.text ?? true
  const stack: Node[] = [{ value, depth: 1, parent: null, key: '' }]
  for (let node = stack.pop(); node; node = stack.pop()) {
    const v = node.value
    if (typeof v === 'string') {
      const problem = text ? textProblem(v) : null
      if (problem) return `${pathOf(node, name)} ${problem}`
      continue
    }
    if (typeof v !== 'object' || v === null) continue
    if (node.depth > bounds.maxDepth) return `${name} nests deeper than ${bounds.maxDepth} levels (at ${pathOf(node, name)})`
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth: node.depth + 1, parent: node, key: i })
      continue
    }
    const keys = Object.keys(v)
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!
      const problem = text ? textProblem(key) : null
      if (problem) return `${pathOf(node, name)} keys ${problem}`
      stack.push({ value: (v as Record<string, unknown>)[key], depth: node.depth + 1, parent: node, key })
    }
  }
  return null
}
