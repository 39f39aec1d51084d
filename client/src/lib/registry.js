// The lists this device knows, kept in localStorage (tiny, synchronous, available offline).
// Record: {id, title, token, role, count, done, pendingCreate, openedAt, addedAt, links, shares}
// (links: share tokens made on this device; shares: the share dialog's last fetched list)
const KEY = 'listok.lists.v1'
const listeners = new Set()

function readAll () {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '[]')
    return Array.isArray(v) ? v.filter((r) => r && typeof r.id === 'string') : []
  } catch {
    return []
  }
}

function writeAll (records) {
  localStorage.setItem(KEY, JSON.stringify(records))
  for (const fn of listeners) fn()
}

export function allLists () {
  return readAll().sort((a, b) => (b.openedAt || b.addedAt || 0) - (a.openedAt || a.addedAt || 0))
}

export function getList (id) {
  return readAll().find((r) => r.id === id) || null
}

export function upsertList (id, patch) {
  const records = readAll()
  const i = records.findIndex((r) => r.id === id)
  if (i === -1) {
    records.push({ id, title: '', token: null, role: null, count: 0, done: 0, addedAt: Date.now(), ...patch })
  } else {
    const before = JSON.stringify(records[i])
    records[i] = { ...records[i], ...patch }
    if (JSON.stringify(records[i]) === before) return records[i]
  }
  writeAll(records)
  return records.find((r) => r.id === id)
}

export function removeList (id) {
  writeAll(readAll().filter((r) => r.id !== id))
}

export function onListsChange (fn) {
  listeners.add(fn)
  const storage = (e) => { if (e.key === KEY) fn() }
  addEventListener('storage', storage)
  return () => { listeners.delete(fn); removeEventListener('storage', storage) }
}
