// HTTP calls to the Listok server. Every call carries the list's token when it has one.
// Optional endpoints (share links, activity, suggestions) resolve to null when the server
// does not answer them, so the UI simply leaves those panels out.

import { userName } from './profile.js'

function headers (token, json) {
  const h = {}
  if (token) h.Authorization = `Bearer ${token}`
  const name = userName()
  if (name) h['X-Listok-Name'] = encodeURIComponent(name) // who did it, for the activity feed
  if (json) h['Content-Type'] = 'application/json'
  return h
}

async function call (method, path, { token, body, timeoutMs = 8000 } = {}) {
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), timeoutMs)
  try {
    const res = await fetch(path, {
      method,
      headers: headers(token, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal,
      cache: 'no-store'
    })
    let data = null
    if ((res.headers.get('content-type') || '').includes('json')) {
      try { data = await res.json() } catch { data = null }
    }
    return { ok: res.ok, status: res.status, data }
  } catch {
    return { ok: false, status: 0, data: null } // network down or timed out
  } finally {
    clearTimeout(timer)
  }
}

const listUrl = (id) => `/api/lists/${encodeURIComponent(id)}`

/** Idempotent create of a list made on this device, with the owner token made here too. */
export const putList = (id, title, token) =>
  call('PUT', listUrl(id), { token, body: token ? { title, token } : { title } })
export const getList = (id, token) => call('GET', listUrl(id), { token })

async function optional (method, path, opts) {
  const r = await call(method, path, opts)
  return r.ok ? r.data : null
}

export const getShares = (id, token) => optional('GET', `${listUrl(id)}/shares`, { token })
export const createShare = (id, token, role, label = '') =>
  optional('POST', `${listUrl(id)}/shares`, { token, body: { role, label } })
export const revokeShare = (id, token, shareId) =>
  call('DELETE', `${listUrl(id)}/shares/${encodeURIComponent(shareId)}`, { token })
export const getActivity = (id, token, lang) =>
  optional('GET', `${listUrl(id)}/activity${lang ? `?lang=${lang}` : ''}`, { token })
/** {ok, status, data}: status 0 is "no network" (the panel then keeps its last answer). */
export const getSuggestions = (id, token) => call('GET', `${listUrl(id)}/suggestions`, { token })
export const deleteList = (id, token) => call('DELETE', listUrl(id), { token })
