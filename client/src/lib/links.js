// App URLs. A list lives at /l/{listId}; a share link adds its token either in the fragment
// (`#token=...`, never sent to the server nor logged) or as a query parameter (`?token=...`).
import { isListId } from './ids.js'

export function listPath (listId) {
  return `/l/${listId}`
}

/** Reads a pasted link, a path, or a bare list id. Returns {listId, token, role} or null. */
export function parseListLink (text, base = location.origin) {
  const raw = String(text || '').trim()
  if (!raw) return null
  if (isListId(raw)) return { listId: raw.toLowerCase(), token: null, role: null }
  let url
  try {
    url = new URL(raw, base)
  } catch {
    return null
  }
  const m = url.pathname.match(/\/(?:l|lists|list)\/([0-9a-f-]{36})\/?$/i)
  if (!m || !isListId(m[1])) return null
  const frag = new URLSearchParams(url.hash.replace(/^#/, ''))
  const token = frag.get('token') || url.searchParams.get('token')
  const role = frag.get('role') || url.searchParams.get('role')
  return { listId: m[1].toLowerCase(), token: token || null, role: role || null }
}

/** The link another person opens: token in the fragment. */
export function shareUrl (listId, token, origin = location.origin) {
  return `${origin}${listPath(listId)}${token ? `#token=${encodeURIComponent(token)}` : ''}`
}
