// Identifiers made on the device: list ids are UUID v4 (so a list created offline can be
// PUT to the server later), item ids are 16 url-safe random characters (the schema).

const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export function newListId () {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export function newItemId () {
  const b = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(b, (x) => URL_SAFE[x & 63]).join('')
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isListId (s) {
  return typeof s === 'string' && UUID_RE.test(s)
}

/** An owner token made on the device (256 bits, url-safe), so a list made offline has one. */
export function newToken () {
  const b = crypto.getRandomValues(new Uint8Array(43))
  return Array.from(b, (x) => URL_SAFE[x & 63]).join('')
}
