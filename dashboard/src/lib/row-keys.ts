// Keyboard navigation for the dashboard's tables: `j` / `k` move focus to the next or previous
// row's link, and Enter follows it (a focused link does that on its own). Rows are the
// `tr.link-row` of the table (see .link-row in app.css); typing in a form field is left alone.
import type { Action } from 'svelte/action'

const TYPING = 'input, textarea, select, [contenteditable="true"]'
const MARK = 'data-row-keys'

/** The row links of `table`, in document order. */
function rowLinks(table: HTMLElement): HTMLAnchorElement[] {
  return [...table.querySelectorAll<HTMLAnchorElement>('tr.link-row a[href]')].filter((a, i, all) =>
    all.findIndex((b) => b.closest('tr') === a.closest('tr')) === i)
}

/** Where focus goes from `current` for `key`: the first row when nothing in the table has focus. */
export function nextRow(links: HTMLAnchorElement[], current: Element | null, key: 'j' | 'k'): HTMLAnchorElement | undefined {
  const at = links.findIndex((a) => a.closest('tr') === current?.closest('tr'))
  if (at < 0) return key === 'j' ? links[0] : links.at(-1)
  return links[Math.min(links.length - 1, Math.max(0, at + (key === 'j' ? 1 : -1)))]
}

/**
 * `use:rowKeys` on a table (or its wrapper): j/k on the page move between its rows. With several
 * such tables on a page, the one holding focus takes the keys; with focus elsewhere, the first.
 */
export const rowKeys: Action<HTMLElement> = (table) => {
  table.setAttribute(MARK, '')
  function onKey(e: KeyboardEvent) {
    if (e.key !== 'j' && e.key !== 'k') return
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return
    if (e.target instanceof Element && e.target.closest(TYPING)) return
    // Focus on a table's scrolling wrapper counts as in the table.
    const active = document.activeElement
    const owner = active?.closest(`[${MARK}]`) ?? active?.querySelector(`[${MARK}]`)
    if (owner && owner !== table) return
    const target = nextRow(rowLinks(table), document.activeElement, e.key)
    if (!target) return
    e.preventDefault()
    target.focus()
    target.closest('tr')?.scrollIntoView({ block: 'nearest' })
  }
  document.addEventListener('keydown', onKey)
  return { destroy: () => document.removeEventListener('keydown', onKey) }
}
