// The suggestions panel's logic, apart from the DOM (tested in client/test/suggest.test.mjs):
// the reason line in the app's language from the server's fields, which suggestions to show,
// the names this device dismissed per list, the last answer kept for offline, and when to
// ask again while the server's model is still working.

export const SHOWN = 6 // suggestions in the panel at most
export const PENDING_RETRY_MS = 3000 // the model works in the background: ask again this soon
export const PENDING_TRIES = 5 // ... at most this many times for one list content
const DISMISSED_MAX = 100 // names remembered as dismissed per list (the oldest go first)

/** A name as the panel compares it: case, ё/е and spaces only. */
export const keyOf = (name) => String(name || '').trim().toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ')

/**
 * The reason line, worded in the app's language (`t` is i18n's), from the fields the server
 * sends beside its own `reason` (which is in the list's language): together `with`, history
 * `every_days` / `last_days`, the table's `dish` or `occasion`, the model. Unknown shapes fall
 * back to the server's text, else "often bought".
 */
export function reasonOf (s, t) {
  const names = Array.isArray(s.with) ? s.with.filter((n) => typeof n === 'string' && n) : []
  if (s.source === 'history' && s.every_days > 0 && s.last_days > 0) {
    return t('suggest.why.due', {
      every: t('suggest.every', { n: s.every_days }),
      last: t('suggest.last', { n: s.last_days })
    })
  }
  if (s.source === 'together' && names.length) return t('suggest.why.with', { names: names.join(', ') })
  if (s.source === 'together' && s.dish) return t('suggest.why.dish', { dish: s.dish })
  if (s.source === 'together' && s.occasion) return t('suggest.why.set', { occasion: s.occasion })
  if (s.source === 'dish' && s.dish) return t('suggest.why.for', { dish: s.dish })
  if (s.source === 'model') return t('suggest.why.model')
  return s.reason || t('suggest.why.often')
}

/**
 * What the panel shows: well-formed suggestions, not dismissed here, not already open on the
 * list (`isOpen(name)`: the list's duplicate rule), one per name, at most `limit`.
 */
export function visible (suggestions, { dismissed = new Set(), isOpen = () => false, limit = SHOWN } = {}) {
  const seen = new Set()
  const out = []
  for (const s of suggestions || []) {
    if (!s || typeof s.name !== 'string' || !s.name.trim()) continue
    const key = keyOf(s.name)
    if (seen.has(key) || dismissed.has(key) || isOpen(s.name)) continue
    seen.add(key)
    out.push(s)
    if (out.length >= limit) break
  }
  return out
}

const dismissedKey = (listId) => `listok.suggest.hidden.${listId}`
const cacheKey = (listId) => `listok.suggest.last.${listId}`

function readJson (storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key) || 'null')
    return value ?? fallback
  } catch {
    return fallback
  }
}

/** The names dismissed on this list, on this device. */
export function readDismissed (storage, listId) {
  const names = readJson(storage, dismissedKey(listId), [])
  return new Set(Array.isArray(names) ? names.filter((n) => typeof n === 'string') : [])
}

/** Remembers a dismissed name (the newest last; only the last DISMISSED_MAX are kept). */
export function dismiss (storage, listId, name) {
  const names = [...readDismissed(storage, listId)].filter((n) => n !== keyOf(name))
  names.push(keyOf(name))
  storage.setItem(dismissedKey(listId), JSON.stringify(names.slice(-DISMISSED_MAX)))
}

/** The last answer the server gave for this list, kept to show offline. */
export function readCached (storage, listId) {
  const cached = readJson(storage, cacheKey(listId), null)
  return cached && Array.isArray(cached.suggestions) ? cached : null
}

export function writeCached (storage, listId, suggestions, at) {
  try {
    storage.setItem(cacheKey(listId), JSON.stringify({ at, suggestions: suggestions.slice(0, 20) }))
  } catch {} // storage full: offline just shows less
}

/** Ask again soon? Only while the model works on this list, and not for ever. */
export const askAgain = (model, tries) => model === 'pending' && tries < PENDING_TRIES
