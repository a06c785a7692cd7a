// Row values as the text Postgres parses: shared by the unnest statements
// (insert.ts) and COPY (copy.ts), so both paths store the same thing.

// Postgres text and jsonb refuse NUL; one in a user-supplied string must not fail a batch.
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g

/** JSON for a jsonb column, without the \u0000 escapes jsonb refuses; null stays null. */
export function jsonText(v: unknown): string | null {
  if (v === null || v === undefined) return null
  const s = JSON.stringify(v)
  return s.includes('\\u0000') ? s.replace(NUL_ESCAPE, '$1') : s
}

/** A text value without NUL. */
export const noNul = (s: string | null) => (s !== null && s.includes('\0') ? s.replaceAll('\0', '') : s)

/**
 * A real[] literal, values to 0.01 ms (what real keeps of a stream's offsets anyway).
 * Written from integer hundredths: a stream has one offset per frame, and printing
 * a small integer is several times cheaper than printing a double.
 */
export function realArrayLiteral(xs: number[] | null): string | null {
  if (xs === null) return null
  let s = '{'
  for (let i = 0; i < xs.length; i++) {
    if (i) s += ','
    const h = Math.round(xs[i] * 100)
    if (!Number.isSafeInteger(h)) { s += Math.round(xs[i] * 100) / 100; continue } // huge or not finite: as printed
    const whole = Math.trunc(h / 100)
    const cents = Math.abs(h % 100)
    if (h < 0 && whole === 0) s += '-'
    s += whole
    if (cents) s += cents < 10 ? '.0' + cents : '.' + (cents % 10 ? cents : cents / 10)
  }
  return s + '}'
}

let cachedSecond = NaN
let cachedPrefix = ''

/**
 * `new Date(ms).toISOString()`, several times cheaper: every span has two timestamps and
 * nearly all of them fall in the current second, whose date-and-time prefix is kept.
 */
export function isoTime(time: number): string {
  const ms = Math.trunc(time) // as Date does (toward zero)
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond) {
    const iso = new Date(ms).toISOString() // a non-finite time throws here, as it always did
    if (iso.length !== 24) return iso // a year outside 0000-9999: its own, longer format
    cachedSecond = second
    cachedPrefix = iso.slice(0, 20)
  }
  const milli = ms - second * 1000
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z'
}
