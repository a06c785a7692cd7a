/** RFC 4180: CRLF rows, fields quoted when they hold a comma, quote or line break. */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const field = (v: string | number | null) => {
    const s = v === null ? '' : String(v)
    // A leading = + - @ makes spreadsheets evaluate the cell; model names come from requests.
    const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s
    return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
  }
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n'
}
