// One open list. This file wires the parts together and draws the whole view from the
// document; the parts live in ui/list/:
//   header.js       title (rename), sync state, presence
//   add.js          the add box: duplicate prompt, draft kept, autocomplete
//   rows.js         one row per item, the inline editor, delete with undo
//   drag.js         reorder by keyboard and by dragging the grip
//   suggestions.js  the suggestions panel (each with its reason) and autocomplete names
//   order.js        the shop order of the categories
//   shop.js         the catalog: offers with prices, the totals line, the shop picker
import { foldable, h, syncChildren, setText, announce } from './dom.js'
import { t, currentLang } from '../lib/i18n.js'
import { ListSession, copyToNewList } from '../lib/session.js'
import { listPath } from '../lib/links.js'
import { confirmDialog } from './dialogs.js'
import { readItems, readTitle, itemsMap, metaMap, LOCAL } from '../lib/items.js'
import { userName, setUserName } from '../lib/profile.js'
import { upsertList } from '../lib/registry.js'
import { getShares, getActivity } from '../lib/api.js'
import { openShareDialog } from './share.js'
import { openActivityDialog } from './activity.js'
import { makeHeader } from './list/header.js'
import { makeRows } from './list/rows.js'
import { makeReorder } from './list/drag.js'
import { makeSuggestions } from './list/suggestions.js'
import { makeAddForm } from './list/add.js'
import { openOrderDialog } from './list/order.js'
import { makeShop } from './list/shop.js'

/** Groups the open items by category in the shop's order; one unnamed group when none has one. */
function groupItems (open, order) {
  if (!open.some((i) => i.category)) return [{ key: 'all', title: null, items: open }]
  return [...order, '']
    .map((c) => ({ key: c || 'none', title: t(c ? `cat.${c}` : 'cat.none'), items: open.filter((i) => i.category === c) }))
    .filter((g) => g.items.length)
}

export function renderList (root, listId, { setHeader, navigate }) {
  upsertList(listId, { openedAt: Date.now() })
  const session = new ListSession(listId)
  // What the parts share: the session, the rows, and the items as last drawn.
  const view = {
    listId,
    session,
    doc: session.doc,
    rows: new Map(), // item id -> row
    items: [],
    groups: [],
    destroyed: false,
    current: (id) => view.items.find((i) => i.id === id) || null,
    changedByOthers: new Set(), // item ids others changed since this device last looked
    createdBy: () => userName(),
    render
  }
  const { doc } = view
  const sections = new Map() // group key -> section

  const header = makeHeader(view)
  const shareBtn = h('button', { type: 'button', hidden: true, onclick: () => openShareDialog(session) }, t('share.open'))
  const activityBtn = h('button', { type: 'button', hidden: true, onclick: () => openActivityDialog(session) }, t('activity.open'))
  setHeader(header.titleBox)

  // --- banners --------------------------------------------------------------------------
  const nameInput = h('input', { id: 'presence-name', maxlength: 40, autocomplete: 'nickname', placeholder: t('name.placeholder') })
  const nameBanner = h('form.banner.row', {
    hidden: !!userName(),
    onsubmit (e) {
      e.preventDefault()
      if (!nameInput.value.trim()) return
      setUserName(nameInput.value)
      session.setPresenceName()
      nameBanner.hidden = true
    }
  }, h('label', { for: 'presence-name' }, t('name.ask')), nameInput, h('button', { type: 'submit' }, t('name.save')))
  const roBanner = h('p.banner.readonly', { hidden: true }, t('list.readonly'))
  // Access ended (link revoked, list deleted): say so, and offer to keep a copy.
  const problemText = h('span')
  const problemBanner = h('div.banner.problem', { hidden: true, role: 'alert' }, problemText,
    h('button', { type: 'button', onclick: copyAway }, t('problem.copy')))
  async function copyAway () {
    const title = t('list.copy.title', { title: readTitle(doc) || session.record.title || t('list.untitled') })
    const id = await copyToNewList(doc, title)
    announce(t('problem.copied', { title }))
    navigate(listPath(id))
  }

  // --- list actions (bottom) -------------------------------------------------------------
  const deleteBtn = h('button.danger', { type: 'button', hidden: true, onclick: deleteList }, t('list.delete'))
  const orderBtn = h('button', { type: 'button', onclick: () => openOrderDialog(view) }, t('order.open'))
  const actionsEl = h('div.list-actions.row', { role: 'group', 'aria-label': t('list.actions') }, orderBtn, deleteBtn)
  async function deleteList () {
    const title = readTitle(doc) || session.record.title || t('list.untitled')
    if (!(await confirmDialog(t('list.delete.confirm', { title }), t('list.delete.ok')))) return
    // The undo window: the home screen holds the delete back for a few seconds (main.js).
    upsertList(listId, { pendingDelete: Date.now() + 8000 })
    navigate('/')
  }

  // --- toast (undo) ---------------------------------------------------------------------
  const toastEl = h('div.toast', { role: 'status', hidden: true })
  let toastTimer = 0
  /** A message with one action (Undo, Restore); `sticky` ones wait for the person. */
  function toast (text, actionLabel, action, { sticky = false } = {}) {
    clearTimeout(toastTimer)
    const button = h('button', {
      type: 'button', onclick () { toastEl.hidden = true; action() }
    }, actionLabel)
    const close = h('button.icon.ghost', { type: 'button', 'aria-label': t('action.close'), onclick () { toastEl.hidden = true } }, '✕')
    toastEl.replaceChildren(h('span', {}, text), button, sticky ? close : null)
    toastEl.hidden = false
    if (!sticky) toastTimer = setTimeout(() => { toastEl.hidden = true }, 8000)
    return button
  }

  const reorder = makeReorder(view)
  const suggestions = makeSuggestions(view)
  const adder = makeAddForm(view, { suggestions })
  view.addFields = adder.addFields
  const rowsPart = makeRows(view, { reorder, toast, addInput: adder.input })
  const shop = makeShop(view, { input: adder.input })
  view.afterAdd = (name) => { announce(t('list.added', { name })); suggestions.loadSoon() }
  view.shopName = shop.shopName
  view.categoryOrder = shop.order
  view.setCategoryOrder = shop.setOrder
  // The totals follow the list: refreshed once changes settle.
  let totalsTimer = 0
  const totalsSoon = () => { clearTimeout(totalsTimer); totalsTimer = setTimeout(shop.load, 1000) }

  const groupsEl = h('div.groups')
  const emptyEl = h('p.empty', { hidden: true }, t('list.empty'))
  const doneList = h('ul.items.done-items', { 'aria-label': t('list.done') })
  const doneSummary = h('summary')
  // The Done section remembers being folded (per list, this device).
  const doneKey = `listok.doneOpen.${listId}`
  const doneEl = foldable('details.done', doneKey, doneSummary, doneList)
  const clearBtn = h('button.ghost.clear-done', { type: 'button', onclick: clearChecked })
  const doneFoot = h('div.done-foot', clearBtn)
  doneEl.append(doneFoot)
  /** Deletes every ticked item in one step, with one Undo. */
  function clearChecked () {
    const done = view.items.filter((i) => i.checked)
    if (!done.length || session.readOnly) return
    session.undo.stopCapturing()
    doc.transact(() => { for (const i of done) itemsMap(doc).delete(i.id) }, LOCAL)
    session.undo.stopCapturing()
    const n = done.length
    toast(t('list.cleared', { n }), t('action.undo'), () => {
      session.undo.undo()
      announce(t('list.cleared.undone', { n }))
    })
  }



  const toolbar = h('div.toolbar', header.presenceEl, h('span.spacer'), activityBtn, shareBtn)
  root.replaceChildren(h('div.list-view', { dataset: { listId } },
    h('div.status-line', header.syncEl, toolbar),
    nameBanner, roBanner, problemBanner,
    adder.form, shop.el,
    h('section.card.items-card', { 'aria-label': t('list.items') }, emptyEl, groupsEl, doneEl), adder.names,
    suggestions.el, actionsEl, toastEl))

  // --- the whole view from the document -------------------------------------------------
  function sectionFor (g) {
    let s = sections.get(g.key)
    if (!s) {
      const heading = h('h2.group-title', { id: `g-${g.key}` })
      const ul = h('ul.items', { 'aria-labelledby': `g-${g.key}` })
      s = { el: h('section.group', { dataset: { group: g.key } }, heading, ul), heading, ul }
      sections.set(g.key, s)
    }
    setText(s.heading, g.title || t('list.todo'))
    s.heading.classList.toggle('sr-only', !g.title)
    return s
  }

  function render () {
    if (view.destroyed) return
    const focused = document.activeElement
    view.items = readItems(doc)
    const open = view.items.filter((i) => !i.checked)
    const done = view.items.filter((i) => i.checked)
    view.groups = groupItems(open, shop.order())
    const seen = new Set()
    const rowFor = (item) => { seen.add(item.id); return rowsPart.rowFor(item) }
    syncChildren(groupsEl, view.groups.map((g) => {
      const s = sectionFor(g)
      syncChildren(s.ul, g.items.map(rowFor))
      return s.el
    }))
    syncChildren(doneList, done.map(rowFor))
    rowsPart.prune(seen)
    setText(doneSummary, t('list.done.count', { n: done.length }))
    setText(clearBtn, t('list.clear', { n: done.length }))
    clearBtn.hidden = session.readOnly
    adder.updateNames()
    suggestions.render()
    doneEl.hidden = !done.length
    emptyEl.hidden = view.items.length > 0
    header.renderTitle()
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true })
  }

  function renderStatus () {
    const ro = session.readOnly
    // Read-only also while the role is not known yet: the banner only once it is "view".
    roBanner.hidden = session.role !== 'view' || !!session.problem
    nameBanner.hidden = ro || !!userName() // a view-only visitor changes nothing: no name asked
    adder.form.hidden = ro
    root.firstElementChild?.classList.toggle('is-readonly', ro)
    problemBanner.hidden = !session.problem
    if (session.problem) shareBtn.hidden = activityBtn.hidden = true
    if (session.problem) {
      setText(problemText, t(`problem.${session.problem}`) + (session.unsent ? ' ' + t('problem.unsent') : ''))
    }
    deleteBtn.hidden = session.role !== 'owner' || !!session.problem || session.record.pendingCreate
    orderBtn.hidden = ro
    actionsEl.hidden = [...actionsEl.children].every((b) => b.hidden)
    header.renderTitle()
    header.renderStatus()
  }

  let frame = 0
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); renderStatus() })
  }
  // Items others changed (arriving over the socket, e.g. after an offline spell) are marked
  // until this device touches them. Not on a first open: then everything is new.
  let marking = false
  session.whenLoaded.then(() => { marking = itemsMap(doc).size > 0 })
  itemsMap(doc).observeDeep((events, txn) => {
    const remote = txn.origin === session.provider
    for (const e of events) {
      // The server filing an item in a category is not news: only category/updated_at moved.
      const filing = e.target !== itemsMap(doc) && [...e.keysChanged].every((k) => k === 'category' || k === 'updated_at')
      if (filing) continue
      const ids = e.target === itemsMap(doc) ? [...e.keysChanged] : [e.path[0]]
      for (const id of ids) {
        if (remote && marking) view.changedByOthers.add(id)
        else if (txn.origin === LOCAL) view.changedByOthers.delete(id)
      }
    }
    schedule()
    if (view.probed) totalsSoon()
  })
  metaMap(doc).observeDeep(schedule)
  // Optional panels are probed once the server has the list (a list made offline gets there
  // later) and the role is known, and again after a role change.
  let probedAs = null
  const offSession = session.on(() => {
    if (session.readOnly) rowsPart.closeEditor()
    const as = `${session.role}:${session.readOnly}`
    if (session.state === 'saved' && session.role && probedAs !== as) { probedAs = as; probeOptional() }
    if (session.state === 'saved') marking = true
    schedule()
  })
  session.whenLoaded.then(() => { render(); rowsPart.restoreEditor(); schedule() })
  render()
  renderStatus()

  function onKey (e) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || '')
    if (typing || !(e.ctrlKey || e.metaKey) || session.readOnly) return
    const k = e.key.toLowerCase()
    if (k === 'z' && !e.shiftKey) { e.preventDefault(); session.undo.undo() }
    if ((k === 'z' && e.shiftKey) || k === 'y') { e.preventDefault(); session.undo.redo() }
  }
  document.addEventListener('keydown', onKey)

  async function probeOptional () {
    view.probed = true
    const [shares, activity] = await Promise.all([
      session.readOnly ? null : getShares(listId, session.token),
      getActivity(listId, session.token, currentLang())
    ])
    if (view.destroyed) return
    shareBtn.hidden = shares == null || !!session.problem
    if (shares) upsertList(listId, { shares: shares.shares || [] }) // the share dialog's, offline
    activityBtn.hidden = activity == null
    suggestions.load()
    shop.load()
  }

  return {
    session,
    destroy () {
      view.destroyed = true
      clearTimeout(toastTimer)
      suggestions.stop()
      clearTimeout(totalsTimer)
      shop.destroy()
      document.removeEventListener('keydown', onKey)
      offSession()
      session.destroy()
    }
  }
}
