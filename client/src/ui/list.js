// One list: add, check, edit inline, delete with undo, reorder (drag and keyboard),
// categories, rename, presence, sync state, and the optional share/activity/suggestions.
import { h, syncChildren, setText, setValue, announce } from './dom.js'
import { t, currentLang, formatQty, formatUnit } from '../lib/i18n.js'
import { ListSession } from '../lib/session.js'
import {
  readItems, readTitle, addItem, updateItem, deleteItem, moveItem, setTitle, itemsMap, metaMap, LOCAL
} from '../lib/items.js'
import * as Y from 'yjs'
import { CATEGORIES } from '../lib/schema.js'
import { parseEntry, canonicalUnit } from '../lib/entry.js'
import { userName, setUserName } from '../lib/profile.js'
import { upsertList } from '../lib/registry.js'
import { getShares, getActivity, getSuggestions } from '../lib/api.js'
import { openShareDialog } from './share.js'
import { openActivityDialog } from './activity.js'

export function renderList (root, listId, { setHeader }) {
  upsertList(listId, { openedAt: Date.now() })
  const session = new ListSession(listId)
  const doc = session.doc
  const rows = new Map() // item id -> row
  const sections = new Map() // group key -> section
  let editingId = null
  let dragging = null
  let destroyed = false

  // --- header: title (rename), presence, sync state ------------------------------------
  const titleBtn = h('button.title-btn', {
    type: 'button', 'aria-describedby': 'rename-hint', onclick: startRename
  })
  const titleInput = h('input.title-input', {
    'aria-label': t('list.rename.label'), maxlength: 200, hidden: true,
    onkeydown (e) {
      if (e.key === 'Enter') { e.preventDefault(); finishRename(true) }
      if (e.key === 'Escape') { e.preventDefault(); finishRename(false) }
    },
    onblur: () => finishRename(true)
  })
  const titleBox = h('div.title-box', titleBtn, titleInput,
    h('span.sr-only', { id: 'rename-hint' }, t('list.rename.hint')))
  function startRename () {
    if (session.readOnly) return
    titleInput.value = readTitle(doc) || session.record.title || ''
    titleBtn.hidden = true
    titleInput.hidden = false
    titleInput.focus()
    titleInput.select()
  }
  function finishRename (save) {
    if (titleInput.hidden) return
    if (save) setTitle(doc, titleInput.value)
    titleInput.hidden = true
    titleBtn.hidden = false
    titleBtn.focus()
  }

  const syncEl = h('span.sync', { role: 'status', 'aria-live': 'polite', dataset: { state: 'offline' } })
  const presenceEl = h('ul.presence', { 'aria-label': t('presence.label') })
  const shareBtn = h('button', { type: 'button', hidden: true, onclick: () => openShareDialog(session) }, t('share.open'))
  const activityBtn = h('button', { type: 'button', hidden: true, onclick: () => openActivityDialog(session) }, t('activity.open'))
  setHeader(titleBox)

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
  const problemBanner = h('p.banner.problem', { hidden: true, role: 'alert' })

  // --- add form -------------------------------------------------------------------------
  const addInput = h('input', {
    id: 'add-item', name: 'item', autocomplete: 'off', maxlength: 300,
    placeholder: t('list.add.placeholder'), enterkeyhint: 'done'
  })
  const addForm = h('form.add.row', {
    onsubmit (e) {
      e.preventDefault()
      const text = addInput.value.trim()
      if (!text || session.readOnly) return
      const fields = parseEntry(text, currentLang())
      const id = addItem(doc, fields, createdBy())
      if (id) {
        addInput.value = ''
        announce(t('list.added', { name: fields.name }))
        loadSuggestionsSoon()
      }
    }
  }, h('label.sr-only', { for: 'add-item' }, t('list.add.label')), addInput,
  h('button.primary', { type: 'submit' }, t('list.add.submit')))
  const suggestEl = h('div.suggestions', { hidden: true, role: 'group', 'aria-label': t('suggest.label') })

  const groupsEl = h('div.groups')
  const emptyEl = h('p.empty', { hidden: true }, t('list.empty'))
  const doneList = h('ul.items.done-items', { 'aria-label': t('list.done') })
  const doneSummary = h('summary')
  const doneEl = h('details.done', { open: true }, doneSummary, doneList)
  const toastEl = h('div.toast', { role: 'status', hidden: true })

  const toolbar = h('div.toolbar', presenceEl, h('span.spacer'), activityBtn, shareBtn)
  root.replaceChildren(h('div.list-view', { dataset: { listId } },
    h('div.status-line', syncEl, toolbar),
    nameBanner, roBanner, problemBanner,
    addForm, suggestEl,
    h('section.card.items-card', { 'aria-label': t('list.items') }, emptyEl, groupsEl, doneEl),
    toastEl))

  function createdBy () {
    return userName() || session.record.role || 'edit'
  }

  // --- rows -----------------------------------------------------------------------------
  function makeRow (id) {
    const check = h('input.check', {
      type: 'checkbox',
      onchange: () => {
        const item = current(id)
        if (!item) return
        updateItem(doc, id, { checked: check.checked })
        announce(t(check.checked ? 'list.checked' : 'list.unchecked', { name: item.name }))
      }
    })
    const name = h('span.name')
    const qty = h('span.qty')
    const note = h('span.note')
    const main = h('button.main', {
      type: 'button', 'aria-expanded': 'false',
      onclick: () => toggleEdit(id)
    }, h('span.line', name, qty), note)
    const handle = h('button.icon.ghost.handle', {
      type: 'button',
      onkeydown: (e) => keyMove(e, id),
      onpointerdown: (e) => startDrag(e, id)
    }, '⠿')
    const del = h('button.icon.ghost.delete', { type: 'button', onclick: () => remove(id) }, '✕')
    const editor = h('div.editor', { hidden: true })
    const el = h('li.item', { dataset: { id } },
      h('div.item-row', check, main, handle, del), editor)
    const row = { id, el, check, name, qty, note, main, handle, del, editor, fields: null }
    el.addEventListener('keydown', (e) => {
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) keyMove(e, id)
    })
    return row
  }

  function buildEditor (row) {
    const item = current(row.id)
    const field = (key, label, { tag = 'input', options = [], ...attrs }) => {
      const input = h(tag, {
        id: `f-${key}-${row.id}`, name: key, ...attrs,
        onchange: () => commitField(row.id, key, input)
      }, ...options)
      return [h('label', { for: `f-${key}-${row.id}` }, label), input]
    }
    const fields = {}
    const parts = [
      ['name', t('item.name'), { maxlength: 200, required: true, autocomplete: 'off' }],
      ['qty', t('item.qty'), { type: 'number', step: 'any', min: 0, inputmode: 'decimal' }],
      ['unit', t('item.unit'), { maxlength: 40, autocomplete: 'off' }],
      ['category', t('item.category'), {
        tag: 'select',
        options: ['', ...CATEGORIES].map((c) => h('option', { value: c }, c ? t(`cat.${c}`) : t('cat.none')))
      }],
      ['note', t('item.note'), { tag: 'textarea', rows: 2, maxlength: 1000 }]
    ].map(([k, label, attrs]) => {
      const [lab, input] = field(k, label, attrs)
      fields[k] = input
      return h(`div.field.f-${k}`, lab, input)
    })
    row.fields = fields
    row.editor.replaceChildren(h('div.fields', parts),
      h('div.actions',
        h('button', { type: 'button', onclick: () => toggleEdit(row.id, true) }, t('action.done'))))
    row.editor.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); toggleEdit(row.id, true) }
      if (e.key === 'Enter' && e.target.tagName === 'INPUT') { e.target.blur(); e.target.focus() }
    })
    fillEditor(row, item)
  }

  function fillEditor (row, item) {
    if (!row.fields || !item) return
    setValue(row.fields.name, item.name)
    setValue(row.fields.qty, item.qty == null ? '' : String(item.qty))
    setValue(row.fields.unit, formatUnit(item.unit, item.qty))
    setValue(row.fields.category, item.category)
    setValue(row.fields.note, item.note)
  }

  function commitField (id, key, input) {
    if (session.readOnly) return
    let v = input.value
    if (key === 'qty') v = v === '' ? null : Number(v)
    if (key === 'unit') {
      const item = current(id)
      if (item && v === formatUnit(item.unit, item.qty)) return // shown in the UI language, unchanged
      v = canonicalUnit(v)
    }
    if (key === 'name' && !v.trim()) { fillEditor(rows.get(id), current(id)); return }
    updateItem(doc, id, { [key]: v })
  }

  function toggleEdit (id, close = false) {
    if (session.readOnly) return
    const prev = editingId
    if (prev && rows.has(prev)) {
      const r = rows.get(prev)
      if (r.fields) for (const [k, input] of Object.entries(r.fields)) if (document.activeElement === input) commitField(prev, k, input)
      r.editor.hidden = true
      r.main.setAttribute('aria-expanded', 'false')
      r.el.classList.remove('editing')
    }
    editingId = close || prev === id ? null : id
    if (editingId) {
      const r = rows.get(id)
      buildEditor(r)
      r.editor.hidden = false
      r.main.setAttribute('aria-expanded', 'true')
      r.el.classList.add('editing')
      r.fields.name.focus()
    } else if (rows.has(id)) {
      rows.get(id).main.focus()
    }
  }

  function updateRow (row, item) {
    row.el.classList.toggle('checked', item.checked)
    row.check.checked = item.checked
    row.check.disabled = session.readOnly
    row.check.setAttribute('aria-label', t(item.checked ? 'item.uncheck' : 'item.check', { name: item.name }))
    setText(row.name, item.name)
    const q = [item.qty == null ? '' : formatQty(item.qty), formatUnit(item.unit, item.qty)].join(' ').trim()
    setText(row.qty, q)
    setText(row.note, item.note)
    row.note.hidden = !item.note
    row.main.setAttribute('aria-label', t('item.edit', { name: item.name }) + (q ? `, ${q}` : ''))
    row.main.disabled = session.readOnly
    row.handle.setAttribute('aria-label', t('item.move', { name: item.name }))
    row.handle.title = t('item.move.hint')
    row.handle.hidden = session.readOnly
    row.del.setAttribute('aria-label', t('item.delete', { name: item.name }))
    row.del.title = t('item.delete', { name: item.name })
    row.del.hidden = session.readOnly
    if (editingId === row.id) fillEditor(row, item)
  }

  // --- the whole view from the document -------------------------------------------------
  let items = []
  let groups = []
  const current = (id) => items.find((i) => i.id === id) || null

  function groupItems (open) {
    if (!open.some((i) => i.category)) return [{ key: 'all', title: null, items: open }]
    return [...CATEGORIES, '']
      .map((c) => ({ key: c || 'none', title: t(c ? `cat.${c}` : 'cat.none'), items: open.filter((i) => i.category === c) }))
      .filter((g) => g.items.length)
  }

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
    if (destroyed) return
    const focused = document.activeElement
    items = readItems(doc)
    const open = items.filter((i) => !i.checked)
    const done = items.filter((i) => i.checked)
    groups = groupItems(open)
    const seen = new Set()
    const rowFor = (item) => {
      seen.add(item.id)
      let row = rows.get(item.id)
      if (!row) { row = makeRow(item.id); rows.set(item.id, row) }
      updateRow(row, item)
      return row.el
    }
    syncChildren(groupsEl, groups.map((g) => {
      const s = sectionFor(g)
      syncChildren(s.ul, g.items.map(rowFor))
      return s.el
    }))
    syncChildren(doneList, done.map(rowFor))
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id)
    if (editingId && !rows.has(editingId)) editingId = null
    setText(doneSummary, t('list.done.count', { n: done.length }))
    doneEl.hidden = !done.length
    emptyEl.hidden = items.length > 0
    const title = readTitle(doc) || session.record.title || t('list.untitled')
    setText(titleBtn, title)
    titleBtn.setAttribute('aria-label', session.readOnly ? title : t('list.rename.button', { title }))
    document.title = `${title} · ${t('app.name')}`
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true })
  }

  function renderStatus () {
    const state = session.state
    syncEl.dataset.state = state
    setText(syncEl, t(`sync.${state}`))
    syncEl.title = t(`sync.${state}.hint`)
    const ro = session.readOnly
    roBanner.hidden = !ro
    addForm.hidden = ro
    root.firstElementChild?.classList.toggle('is-readonly', ro)
    titleBtn.disabled = ro
    if (ro) titleBtn.setAttribute('aria-label', titleBtn.textContent)
    problemBanner.hidden = !session.problem
    if (session.problem) setText(problemBanner, t(`problem.${session.problem}`))
    const peers = session.peers()
    const me = { clientId: 'me', name: userName() || t('presence.you'), color: '' }
    syncChildren(presenceEl, [me, ...peers].map((p) => {
      const label = p.clientId === 'me' ? t('presence.me', { name: me.name }) : (p.name || t('presence.anon'))
      return h('li.avatar', { title: label, 'aria-label': label, style: p.color ? `--c:${p.color}` : null, dataset: p.clientId === 'me' ? { me: '1' } : null },
        (p.name || '?').trim().charAt(0).toUpperCase() || '?')
    }))
    presenceEl.setAttribute('aria-label', t('presence.count', { n: peers.length + 1 }))
  }

  let frame = 0
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); renderStatus() })
  }
  itemsMap(doc).observeDeep(schedule)
  metaMap(doc).observeDeep(schedule)
  // Optional panels are probed once the server has the list (a list made offline gets there
  // later), and again after a role change.
  let probedAs = null
  const offSession = session.on(() => {
    if (session.readOnly && editingId) toggleEdit(editingId, true)
    const as = `${session.readOnly}`
    if (session.state === 'saved' && probedAs !== as) { probedAs = as; probeOptional() }
    schedule()
  })
  session.whenLoaded.then(() => schedule())
  render()
  renderStatus()

  // --- delete with undo -----------------------------------------------------------------
  let toastTimer = 0
  function remove (id) {
    const item = current(id)
    if (!item || session.readOnly) return
    const m = itemsMap(doc).get(id)
    const snapshot = m instanceof Y.Map ? m.toJSON() : null
    const next = nextFocus(id)
    session.undo.stopCapturing()
    deleteItem(doc, id)
    const stackItem = session.undo.undoStack[session.undo.undoStack.length - 1]
    session.undo.stopCapturing()
    render()
    next?.focus()
    showToast(t('list.deleted', { name: item.name }), t('action.undo'), () => {
      const stack = session.undo.undoStack
      if (stack[stack.length - 1] === stackItem) session.undo.undo()
      else if (snapshot && !itemsMap(doc).has(id)) {
        doc.transact(() => {
          const restored = new Y.Map()
          for (const [k, v] of Object.entries(snapshot)) restored.set(k, v)
          itemsMap(doc).set(id, restored)
        }, LOCAL)
      }
      announce(t('list.restored', { name: item.name }))
    })
  }

  function nextFocus (id) {
    const row = rows.get(id)
    const li = row?.el.nextElementSibling || row?.el.previousElementSibling
    return li ? li.querySelector('button.main') : addInput
  }

  function showToast (text, actionLabel, action) {
    clearTimeout(toastTimer)
    toastEl.replaceChildren(h('span', {}, text), h('button', {
      type: 'button', onclick () { toastEl.hidden = true; action() }
    }, actionLabel))
    toastEl.hidden = false
    toastTimer = setTimeout(() => { toastEl.hidden = true }, 8000)
  }

  function onKey (e) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || '')
    if (typing || !(e.ctrlKey || e.metaKey) || session.readOnly) return
    const k = e.key.toLowerCase()
    if (k === 'z' && !e.shiftKey) { e.preventDefault(); session.undo.undo() }
    if ((k === 'z' && e.shiftKey) || k === 'y') { e.preventDefault(); session.undo.redo() }
  }
  document.addEventListener('keydown', onKey)

  // --- reorder by keyboard and by drag --------------------------------------------------
  function sequenceOf (id) {
    const item = current(id)
    if (!item) return []
    if (item.checked) return items.filter((i) => i.checked)
    return groups.find((g) => g.items.some((i) => i.id === id))?.items || []
  }

  function keyMove (e, id) {
    if (session.readOnly || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return
    e.preventDefault()
    const seq = sequenceOf(id)
    const i = seq.findIndex((x) => x.id === id)
    if (e.key === 'ArrowUp' && i > 0) moveItem(doc, id, i > 1 ? seq[i - 2].id : null, seq)
    else if (e.key === 'ArrowDown' && i < seq.length - 1) moveItem(doc, id, seq[i + 1].id, seq)
    else return
    render()
    const pos = sequenceOf(id).findIndex((x) => x.id === id) + 1
    rows.get(id)?.handle.focus()
    announce(t('item.moved', { name: current(id)?.name || '', pos, n: seq.length }))
  }

  function startDrag (e, id) {
    if (session.readOnly || e.button > 0) return
    const row = rows.get(id)
    const seq = sequenceOf(id)
    const others = seq.filter((x) => x.id !== id).map((x) => {
      const r = rows.get(x.id)
      const box = r.el.getBoundingClientRect()
      return { id: x.id, el: r.el, mid: box.top + box.height / 2 }
    })
    e.preventDefault()
    row.handle.setPointerCapture(e.pointerId)
    dragging = { id, row, seq, others, startY: e.clientY, afterId: undefined }
    row.el.classList.add('dragging')
    const move = (ev) => {
      const dy = ev.clientY - dragging.startY
      row.el.style.transform = `translateY(${dy}px)`
      const before = dragging.others.filter((o) => o.mid < ev.clientY)
      dragging.afterId = before.length ? before[before.length - 1].id : null
      for (const o of dragging.others) o.el.classList.toggle('drop-after', o.id === dragging.afterId)
      row.el.parentElement.classList.toggle('drop-first', dragging.afterId === null)
    }
    const end = () => {
      row.handle.removeEventListener('pointermove', move)
      row.handle.removeEventListener('pointerup', end)
      row.handle.removeEventListener('pointercancel', end)
      row.el.classList.remove('dragging')
      row.el.style.transform = ''
      row.el.parentElement?.classList.remove('drop-first')
      for (const o of dragging.others) o.el.classList.remove('drop-after')
      const { afterId } = dragging
      dragging = null
      if (afterId !== undefined) moveItem(doc, id, afterId, seq)
    }
    row.handle.addEventListener('pointermove', move)
    row.handle.addEventListener('pointerup', end)
    row.handle.addEventListener('pointercancel', end)
  }

  // --- optional server features: share links, activity, suggestions ---------------------
  async function probeOptional () {
    const [shares, activity] = await Promise.all([
      session.readOnly ? null : getShares(listId, session.token),
      getActivity(listId, session.token, currentLang())
    ])
    if (destroyed) return
    shareBtn.hidden = shares == null
    activityBtn.hidden = activity == null
    loadSuggestions()
  }

  let suggestTimer = 0
  function loadSuggestionsSoon () {
    clearTimeout(suggestTimer)
    suggestTimer = setTimeout(loadSuggestions, 1500)
  }
  async function loadSuggestions () {
    if (session.readOnly) { suggestEl.hidden = true; return }
    const data = await getSuggestions(listId, session.token)
    if (destroyed) return
    const list = Array.isArray(data) ? data : (data && (data.suggestions || data.items)) || []
    const have = new Set(items.filter((i) => !i.checked).map((i) => i.name.toLowerCase()))
    const fresh = list
      .map((s) => (typeof s === 'string' ? { name: s } : s))
      .filter((s) => s && typeof s.name === 'string' && s.name && !have.has(s.name.toLowerCase()))
      .slice(0, 8)
    suggestEl.hidden = !fresh.length
    suggestEl.replaceChildren(h('span.muted', {}, t('suggest.title')), ...fresh.map((s) => h('button.chip', {
      type: 'button',
      'aria-label': t('suggest.add', { name: s.name }),
      title: typeof s.reason === 'string' ? s.reason : null,
      onclick () {
        if (session.readOnly) return
        // A suggestion may point at an item already bought: put it back rather than duplicate.
        if (s.item_id && current(s.item_id)?.checked) updateItem(doc, s.item_id, { checked: false })
        else addItem(doc, parseEntry(s.name, currentLang()), createdBy())
        announce(t('list.added', { name: s.name }))
        loadSuggestionsSoon()
      }
    }, `+ ${s.name}`)))
  }

  return {
    session,
    destroy () {
      destroyed = true
      clearTimeout(toastTimer)
      clearTimeout(suggestTimer)
      document.removeEventListener('keydown', onKey)
      offSession()
      session.destroy()
    }
  }
}
