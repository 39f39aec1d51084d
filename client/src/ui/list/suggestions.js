// The suggestions panel: what the server thinks is missing (GET /api/lists/{id}/suggestions),
// each with a visible reason in the app's language ("usually with milk, bread", "due again:
// usually every 7 days, last 9 days ago"). "+" adds it the way typing does (duplicates ask,
// categories are filled in); "✕" hides it on this list, on this device. Folding is remembered
// per list, like Done. Offline it shows the last answer and says it may be out of date. While
// the server's model is still working ("pending") it asks again a few times: the model's
// additions join the panel when they come.
import { foldable, h, announce, setText, syncChildren } from '../dom.js'
import { t, currentLang } from '../../lib/i18n.js'
import { getSuggestions } from '../../lib/api.js'
import { updateItem } from '../../lib/items.js'
import { parseEntry, findDuplicate } from '../../lib/intel.js'
import {
  reasonOf, visible, keyOf, readDismissed, dismiss, readCached, writeCached, askAgain, PENDING_RETRY_MS
} from '../../lib/suggest.js'

export function makeSuggestions (view) {
  const { session, doc, listId } = view
  const openKey = `listok.suggestOpen.${listId}`
  const summary = h('summary', { id: `suggest-${listId}` })
  const staleNote = h('p.suggest-stale', { hidden: true }, t('suggest.stale'))
  const list = h('ul.suggest-list', { 'aria-labelledby': `suggest-${listId}` })
  const el = foldable('details.card.suggest', openKey, summary, staleNote, list)
  el.hidden = true

  const cached = readCached(localStorage, listId)
  let all = cached?.suggestions || [] // the last answer, from the server or kept from before
  let unreachable = false // the last ask found no network
  let settled = false // the socket had its chance to connect (no "offline" flash on opening)
  const settleTimer = setTimeout(() => { settled = true; render() }, 3000)
  let missed = false // the socket went offline since the last ask
  let timer = 0
  let tries = 0 // asks while the model is pending, for this list content
  const rows = new Map() // name key -> its row

  function loadSoon () {
    clearTimeout(timer)
    tries = 0
    timer = setTimeout(load, 1500)
  }

  async function load () {
    clearTimeout(timer)
    missed = false
    if (session.readOnly) { render(); return }
    const res = await getSuggestions(listId, session.token)
    if (view.destroyed) return
    unreachable = res.status === 0
    if (res.ok && Array.isArray(res.data?.suggestions)) {
      all = res.data.suggestions
      writeCached(localStorage, listId, all, Date.now())
      if (askAgain(res.data.model, tries)) {
        tries++
        timer = setTimeout(load, PENDING_RETRY_MS)
      }
    } else if (res.status !== 0) {
      all = [] // a server without suggestions, or no access: no panel
    } // no network: keep what we had (the note says it may be out of date)
    view.render() // draws the panel, and the add box's autocomplete takes the names too
  }

  function isOpen (name) {
    return !!findDuplicate(name, view.items)
  }

  function rowFor (s) {
    const key = keyOf(s.name)
    let row = rows.get(key)
    if (!row) {
      const name = h('span.suggest-name')
      const why = h('span.suggest-why')
      const add = h('button.icon.suggest-add', { type: 'button', onclick: () => accept(row.s) }, '+')
      const hide = h('button.icon.ghost.suggest-hide', { type: 'button', onclick: () => hideOne(row.s) }, '✕')
      row = { el: h('li.suggestion', h('span.suggest-text', name, why), add, hide), name, why, add, hide, s }
      rows.set(key, row)
    }
    row.s = s
    setText(row.name, s.name)
    setText(row.why, reasonOf(s, t))
    row.add.setAttribute('aria-label', t('suggest.add', { name: s.name }))
    row.hide.setAttribute('aria-label', t('suggest.hide', { name: s.name }))
    return row
  }

  function render () {
    const shown = session.readOnly
      ? []
      : visible(all, { dismissed: readDismissed(localStorage, listId), isOpen })
    const now = shown.map(rowFor)
    for (const [key, row] of rows) if (!now.includes(row)) rows.delete(key)
    syncChildren(list, now.map((r) => r.el))
    setText(summary, t('suggest.count', { n: shown.length }))
    const offline = !navigator.onLine || unreachable || (settled && session.state === 'offline')
    staleNote.hidden = !offline
    el.hidden = !shown.length
  }

  /** Focus goes on to the next suggestion (or the panel's heading) when a row leaves. */
  function keepFocus (row) {
    if (!row.el.contains(document.activeElement)) return () => {}
    const next = row.el.nextElementSibling || row.el.previousElementSibling
    return () => {
      const target = next?.isConnected ? next.querySelector('.suggest-add') : summary
      target.focus({ preventScroll: true })
    }
  }

  async function accept (s) {
    if (session.readOnly) return
    const row = rows.get(keyOf(s.name))
    const refocus = row ? keepFocus(row) : () => {}
    let id = null
    // A suggestion may point at an item already bought: put it back rather than duplicate.
    if (s.item_id && view.current(s.item_id)?.checked) {
      updateItem(doc, s.item_id, { checked: false })
      id = s.item_id
    } else {
      const fields = parseEntry(s.name, currentLang())
      if (typeof s.qty === 'number') fields.qty = s.qty
      if (typeof s.unit === 'string' && s.unit) fields.unit = s.unit
      id = await view.addFields(fields)
    }
    if (!id) return
    announce(t('list.added', { name: s.name }))
    view.render()
    render()
    refocus()
    loadSoon()
  }

  function hideOne (s) {
    const row = rows.get(keyOf(s.name))
    const refocus = row ? keepFocus(row) : () => {}
    dismiss(localStorage, listId, s.name)
    render()
    refocus()
    announce(t('suggest.hidden', { name: s.name }))
  }

  // Back online after a spell offline: ask again (the answer may have moved on). The first
  // answer of a page comes from list.js once the list is on the server (view.probed).
  const offSession = session.on(() => {
    if (session.state === 'offline') missed = true
    else if (missed && session.state === 'saved' && view.probed) load()
    render()
  })

  /** The names the server last suggested (for autocomplete). */
  const names = () => all.map((s) => s?.name).filter((n) => typeof n === 'string' && n)

  const stop = () => { clearTimeout(timer); clearTimeout(settleTimer); offSession() }
  return { el, load, loadSoon, names, render, stop }
}
