import { describe, expect, it } from 'vitest'
import { nextRow } from './row-keys.ts'

// Rows and links as the DOM gives them: a link's closest('tr') is its row.
const rows = ['r0', 'r1', 'r2']
const links = rows.map((tr) => ({ tr, closest: () => tr })) as unknown as HTMLAnchorElement[]
const inRow = (tr: string) => ({ closest: () => tr }) as unknown as Element

describe('nextRow', () => {
  it('starts at the first row on j and the last on k when focus is outside the table', () => {
    expect(nextRow(links, null, 'j')).toBe(links[0])
    expect(nextRow(links, inRow('elsewhere'), 'k')).toBe(links[2])
  })

  it('moves one row from the focused one, and stops at either end', () => {
    expect(nextRow(links, inRow('r0'), 'j')).toBe(links[1])
    expect(nextRow(links, inRow('r1'), 'k')).toBe(links[0])
    expect(nextRow(links, inRow('r2'), 'j')).toBe(links[2])
    expect(nextRow(links, inRow('r0'), 'k')).toBe(links[0])
  })

  it('has nowhere to go in an empty table', () => {
    expect(nextRow([], null, 'j')).toBeUndefined()
  })
})
