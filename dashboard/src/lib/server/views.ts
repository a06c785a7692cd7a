// Saved views of the streams explorer (telemetry.saved_views, migrations/20261207000200_explorer.sql):
// a name for a query string, shared by every operator. Written only through the table's
// security-definer functions; what they store was checked here first, with the explorer's own
// parsers, so a saved view always opens.
import { textProblem } from '../../../../shared/well-formed.ts'
import { viewParams } from '../filters.ts'
import type { Parsed } from '../range.ts'
import type { SavedView } from '../types.ts'
import { readExplorerQuery } from './explorer-query.ts'
import type { Db } from './rollups.ts'

export const MAX_VIEW_NAME = 100
const MAX_QUERY = 2000

/** The query string a view stores for `query` (viewParams), or why the explorer would refuse it. */
export function viewQuery(query: string): Parsed<string> {
  const params = viewParams(query)
  const checked = readExplorerQuery(params)
  if (!checked.ok) return checked
  const text = params.toString()
  if (text.length > MAX_QUERY) return { ok: false, message: `query is longer than ${MAX_QUERY} characters` }
  return { ok: true, value: text }
}

/** A view's name, trimmed, or why it cannot be one. */
export function viewName(name: unknown): Parsed<string> {
  const text = typeof name === 'string' ? name.trim() : ''
  if (!text) return { ok: false, message: 'name is required' }
  if (text.length > MAX_VIEW_NAME) return { ok: false, message: `name is longer than ${MAX_VIEW_NAME} characters` }
  const problem = textProblem(text)
  return problem ? { ok: false, message: `name ${problem}` } : { ok: true, value: text }
}

type Stored = Omit<SavedView, 'saved_at'> & { saved_at: Date }
const toView = (r: Stored): SavedView => ({ ...r, id: String(r.id), saved_at: r.saved_at.toISOString() })

export async function listViews(sql: Db): Promise<SavedView[]> {
  const rows = await sql<Stored[]>`select id, name, query, saved_by, saved_at from telemetry.saved_views order by lower(name), id`
  return rows.map(toView)
}

/** Saves `query` as `name` (a name already taken, in any case, is that view saved again). */
export async function saveView(sql: Db, name: string, query: string, savedBy: string): Promise<SavedView> {
  const [row] = await sql<Stored[]>`select id, name, query, saved_by, saved_at from telemetry.save_view(${name}, ${query}, ${savedBy})`
  if (!row) throw new Error(`view ${name} was not saved`)
  return toView(row)
}

/** True when the view existed. */
export async function deleteView(sql: Db, id: string): Promise<boolean> {
  const [row] = await sql<{ deleted: boolean }[]>`select telemetry.delete_view(${id}::bigint) as deleted`
  return row?.deleted ?? false
}
