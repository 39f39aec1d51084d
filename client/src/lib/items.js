// Reading and writing items of one list document. Every write is a transaction with the
// origin LOCAL, so the undo manager tracks this device's own changes and nothing else.
import * as Y from 'yjs'
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import { META, ITEMS, CATEGORIES, NAME_MAX } from './schema.js'
import { newItemId } from './ids.js'

export const LOCAL = { local: true }

export const itemsMap = (ydoc) => ydoc.getMap(ITEMS)
export const metaMap = (ydoc) => ydoc.getMap(META)

const str = (v) => (typeof v === 'string' ? v : '')
const numOrNull = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export function readItem (id, m) {
  const get = m instanceof Y.Map ? (k) => m.get(k) : (k) => m?.[k]
  return {
    id,
    name: str(get('name')),
    qty: numOrNull(get('qty')),
    unit: typeof get('unit') === 'string' && get('unit') ? get('unit') : null,
    note: str(get('note')),
    category: CATEGORIES.includes(get('category')) ? get('category') : '',
    checked: get('checked') === true,
    checked_at: numOrNull(get('checked_at')),
    order: str(get('order')),
    created_at: numOrNull(get('created_at')),
    updated_at: numOrNull(get('updated_at')),
    created_by: str(get('created_by'))
  }
}

export const byOrder = (a, b) =>
  a.order < b.order ? -1 : a.order > b.order ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

/** All items, sorted by order then id. */
export function readItems (ydoc) {
  const out = []
  itemsMap(ydoc).forEach((m, id) => { out.push(readItem(id, m)) })
  return out.sort(byOrder)
}

export function readTitle (ydoc) {
  return str(metaMap(ydoc).get('title'))
}

export function setTitle (ydoc, title) {
  const t = String(title).trim().slice(0, NAME_MAX)
  if (!t || t === readTitle(ydoc)) return
  ydoc.transact(() => metaMap(ydoc).set('title', t), LOCAL)
}

/** A fresh document made on this device (a list created offline). */
export function initMeta (ydoc, title) {
  ydoc.transact(() => {
    const meta = metaMap(ydoc)
    if (!meta.has('title')) meta.set('title', title)
    if (!meta.has('created_at')) meta.set('created_at', Date.now())
  }, LOCAL)
}

function safeKeyAfter (last) {
  try {
    return generateKeyBetween(last || null, null)
  } catch {
    return generateKeyBetween(null, null) + newItemId().slice(0, 4).replace(/[^A-Za-z0-9]/g, 'V')
  }
}

/** Adds an item at the end; `fields` holds name and optional qty, unit, note, category. */
export function addItem (ydoc, fields, createdBy) {
  const name = String(fields.name || '').trim().slice(0, NAME_MAX)
  if (!name) return null
  const items = readItems(ydoc)
  const last = items.length ? items[items.length - 1].order : null
  const id = newItemId()
  const now = Date.now()
  ydoc.transact(() => {
    const m = new Y.Map()
    m.set('name', name)
    m.set('qty', numOrNull(fields.qty))
    m.set('unit', fields.unit ? String(fields.unit).slice(0, 40) : null)
    m.set('note', fields.note ? String(fields.note) : '')
    m.set('category', CATEGORIES.includes(fields.category) ? fields.category : '')
    m.set('checked', false)
    m.set('checked_at', null)
    m.set('order', safeKeyAfter(last))
    m.set('created_at', now)
    m.set('updated_at', now)
    m.set('created_by', String(createdBy || ''))
    itemsMap(ydoc).set(id, m)
  }, LOCAL)
  return id
}

/** Writes only the fields that changed, each in its own key of the item's Y.Map. */
export function updateItem (ydoc, id, patch) {
  const m = itemsMap(ydoc).get(id)
  if (!(m instanceof Y.Map)) return false
  const clean = {}
  if ('name' in patch) {
    const n = String(patch.name).trim().slice(0, NAME_MAX)
    if (n) clean.name = n
  }
  if ('qty' in patch) clean.qty = numOrNull(patch.qty)
  if ('unit' in patch) clean.unit = patch.unit ? String(patch.unit).trim().slice(0, 40) || null : null
  if ('note' in patch) clean.note = String(patch.note || '')
  if ('category' in patch) clean.category = CATEGORIES.includes(patch.category) ? patch.category : ''
  if ('checked' in patch) {
    clean.checked = patch.checked === true
    clean.checked_at = clean.checked ? Date.now() : null
  }
  if ('order' in patch) clean.order = String(patch.order)
  const changed = Object.entries(clean).filter(([k, v]) => m.get(k) !== v)
  if (!changed.length) return false
  ydoc.transact(() => {
    for (const [k, v] of changed) m.set(k, v)
    m.set('updated_at', Date.now())
  }, LOCAL)
  return true
}

export function deleteItem (ydoc, id) {
  if (!itemsMap(ydoc).has(id)) return false
  ydoc.transact(() => itemsMap(ydoc).delete(id), LOCAL)
  return true
}

/**
 * Moves item `id` so that it sits right after `afterId` (null: first) within `sequence`,
 * the visible ordered items of its group. Ties in `order` (two devices appended at once)
 * are broken by re-keying the tied neighbours, so the move always lands where it was dropped.
 */
export function moveItem (ydoc, id, afterId, sequence) {
  const rest = sequence.filter((x) => x.id !== id)
  const at = afterId == null ? 0 : rest.findIndex((x) => x.id === afterId) + 1
  if (afterId != null && at === 0) return false
  const prev = rest[at - 1] || null
  const next = rest[at] || null
  const lo = prev ? prev.order : null
  const hi = next ? next.order : null
  try {
    if (lo === null || hi === null || lo < hi) {
      return updateItem(ydoc, id, { order: generateKeyBetween(lo, hi) })
    }
  } catch { /* invalid keys from elsewhere: fall through to re-keying */ }
  // Re-key the moved item and every following neighbour up to the first strictly larger key.
  let end = at
  while (end < rest.length && !(lo === null || rest[end].order > lo)) end++
  const upper = rest[end] ? rest[end].order : null
  const moved = [id, ...rest.slice(at, end).map((x) => x.id)]
  let keys
  try {
    keys = generateNKeysBetween(lo, upper, moved.length)
  } catch {
    keys = generateNKeysBetween(lo, null, moved.length)
  }
  ydoc.transact(() => {
    moved.forEach((mid, i) => {
      const m = itemsMap(ydoc).get(mid)
      if (m instanceof Y.Map) { m.set('order', keys[i]); m.set('updated_at', Date.now()) }
    })
  }, LOCAL)
  return true
}

const QTY_MAX = 1_000_000 // server/api.py QTY_MAX

/** The quantity after merging `fields` into `existing` (server/api.py _merged_qty's rule). */
export function mergedQty (existing, fields) {
  const old = existing.qty
  const add = numOrNull(fields.qty)
  if (old != null && add != null && (existing.unit || null) === (fields.unit || null)) return Math.min(old + add, QTY_MAX)
  return Math.min((old ?? 1) + 1, QTY_MAX)
}

/**
 * The list's categories in the order of the shop: meta `category_order` (an array of slugs,
 * last writer wins), then any slug it lacks in the default order.
 */
export function readCategoryOrder (ydoc) {
  const saved = metaMap(ydoc).get('category_order')
  const mine = Array.isArray(saved) ? saved.filter((c, i) => CATEGORIES.includes(c) && saved.indexOf(c) === i) : []
  return [...mine, ...CATEGORIES.filter((c) => !mine.includes(c))]
}

export function setCategoryOrder (ydoc, order) {
  const clean = order.filter((c, i) => CATEGORIES.includes(c) && order.indexOf(c) === i)
  ydoc.transact(() => metaMap(ydoc).set('category_order', clean), LOCAL)
}
