// The app shell: header, a two-route router (/ and /l/{listId}), language switch, and the
// service worker registration.
import { h } from './ui/dom.js'
import { t, LANGS, currentLang, setLang, onLangChange } from './lib/i18n.js'
import { parseListLink } from './lib/links.js'
import { allLists, upsertList, removeList, onListsChange } from './lib/registry.js'
import { putList, deleteList } from './lib/api.js'
import { dbName } from './lib/session.js'
import { renderHome, openShared } from './ui/home.js'
import { renderList } from './ui/list.js'
import './app.css'

const app = document.getElementById('app')
let view = null

function navigate (path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  route()
}

function header (slot) {
  const onList = location.pathname !== '/'
  const lang = h('select.lang', {
    'aria-label': t('lang.label'),
    onchange: (e) => setLang(e.target.value)
  }, LANGS.map((l) => h('option', { value: l, selected: l === currentLang() }, t(`lang.${l}`))))
  return h('header.bar',
    onList
      ? h('a.back', { href: '/', title: t('nav.back'), onclick (e) { e.preventDefault(); navigate('/') } }, h('span', { 'aria-hidden': 'true' }, '‹'), h('span.back-text', {}, t('nav.lists')))
      : h('a.brand', { href: '/' }, h('img', { src: '/icon.svg', alt: '', width: 28, height: 28 }), h('span', {}, t('app.name'))),
    h('div.slot', slot),
    lang)
}

function route () {
  view?.destroy?.()
  view = null
  const main = h('main', { id: 'main' })
  const link = parseListLink(location.href)
  let slot = null
  const setHeader = (el) => { slot = el }
  if (link) {
    if (link.token || link.role) {
      // A shared link: remember its token on this device, then drop it from the address bar.
      openShared(link, (p) => history.replaceState(null, '', p))
    }
    view = renderList(main, link.listId, { setHeader, navigate })
  } else {
    if (location.pathname !== '/') history.replaceState(null, '', '/')
    view = renderHome(main, { navigate })
    document.title = t('app.name')
  }
  app.replaceChildren(
    h('a.skip', { href: '#main' }, t('nav.skip')),
    header(slot), main,
    h('div', { id: 'announce', class: 'sr-only', 'aria-live': 'polite' }))
  window.listok = { view, navigate } // handle for tests and debugging
}

/** Lists created offline reach the server when the network returns, even if never reopened. */
async function pushPendingLists () {
  for (const r of allLists().filter((x) => x.pendingCreate && !x.pendingDelete)) {
    if (view?.session?.listId === r.id) continue
    const res = await putList(r.id, r.title || '', r.token)
    if (res.ok) upsertList(r.id, { pendingCreate: false, ...(res.data?.token ? { token: res.data.token, role: res.data.role || 'owner' } : {}) })
  }
}

/**
 * Lists the owner deleted: sent to the server once their undo window has passed (and again
 * when the network returns), then forgotten on this device.
 */
let deleteTimer = 0
async function sendDeletes () {
  clearTimeout(deleteTimer)
  const now = Date.now()
  const pending = allLists().filter((r) => r.pendingDelete)
  for (const r of pending.filter((x) => x.pendingDelete <= now)) {
    const res = r.pendingCreate ? { ok: true } : await deleteList(r.id, r.token)
    if (res.ok || res.status === 401 || res.status === 404) {
      removeList(r.id)
      try { indexedDB.deleteDatabase(dbName(r.id)) } catch { /* nothing stored */ }
    }
  }
  const next = Math.min(...allLists().filter((r) => r.pendingDelete > now).map((r) => r.pendingDelete))
  if (Number.isFinite(next)) deleteTimer = setTimeout(sendDeletes, next - now + 50)
}

addEventListener('popstate', route)
addEventListener('online', pushPendingLists)
addEventListener('online', sendDeletes)
onListsChange(() => { clearTimeout(deleteTimer); deleteTimer = setTimeout(sendDeletes, 100) })
onLangChange(route)
document.documentElement.lang = currentLang()
route()
pushPendingLists()
sendDeletes()

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {})
}
