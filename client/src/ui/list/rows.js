// One row per item: tick by tapping the name, the edit button (opens the inline editor), the
// grip, delete with undo; and the inline editor itself.
import * as Y from 'yjs'
import { h, setText, setValue, announce } from '../dom.js'
import { t, formatQty, formatUnit } from '../../lib/i18n.js'
import { addItem, updateItem, deleteItem, itemsMap, LOCAL } from '../../lib/items.js'
import { CATEGORIES } from '../../lib/schema.js'
import { canonicalUnit } from '../../lib/intel.js'

export function makeRows (view, { reorder, toast, addInput }) {
  const { session, doc, rows } = view
  let editingId = null

  // A tap anywhere on the name ticks the item (the label holds the checkbox); editing has its
  // own button. Every control is at least 44x44 px.
  const editKey = `listok.editing.${view.listId}`

  /** After a reload: the editor that was open, with what was typed in it. */
  function restoreEditor () {
    let saved = null
    try { saved = JSON.parse(sessionStorage.getItem(editKey) || 'null') } catch { saved = null }
    if (!saved || !rows.has(saved.id) || session.readOnly || editingId) return
    toggleEdit(saved.id)
    const row = rows.get(saved.id)
    for (const [k, v] of Object.entries(saved.values || {})) {
      if (row.fields[k] && typeof v === 'string' && row.fields[k].value !== v) {
        row.fields[k].value = v
        row.fields[k].dataset.dirty = '1'
      }
    }
    if (saved.values) sessionStorage.setItem(editKey, JSON.stringify(saved))
  }

  function makeRow (id) {
    const check = h('input.check', {
      type: 'checkbox', id: `c-${id}`,
      onchange: () => toggleChecked(id, check.checked)
    })
    const name = h('span.name')
    const qty = h('span.qty')
    const note = h('span.note')
    const changedMark = h('span.changed-mark', { hidden: true }, t('item.changed'))
    const tick = h('label.tick', { for: `c-${id}` }, h('span.line', name, qty), note, changedMark)
    const edit = h('button.icon.ghost.edit', {
      type: 'button', 'aria-expanded': 'false', onclick: () => toggleEdit(id)
    }, '✎')
    const handle = h('button.icon.ghost.handle', {
      type: 'button',
      onkeydown: (e) => reorder.keyMove(e, id),
      onpointerdown: (e) => reorder.startDrag(e, id)
    }, '⠿')
    const del = h('button.icon.ghost.delete', { type: 'button', onclick: () => remove(id) }, '✕')
    const editor = h('div.editor', { hidden: true })
    const el = h('li.item', { dataset: { id } },
      h('div.item-row', check, tick, edit, handle, del), editor)
    const row = { id, el, check, name, qty, note, changedMark, tick, edit, handle, del, editor, fields: null }
    el.addEventListener('keydown', (e) => {
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) reorder.keyMove(e, id)
    })
    return row
  }

  /**
   * Ticks or unticks an item. The row moves to the other section; focus stays where it was in
   * this one (on the neighbour's checkbox), so ticking several in a row needs no hunting.
   */
  function toggleChecked (id, checked) {
    const item = view.current(id)
    if (!item) return
    const row = rows.get(id)
    // The neighbour in this section, across category groups (each group is its own list).
    const container = row.el.closest('.done-items') || row.el.closest('.items-card') || row.el.parentElement
    const inSection = [...container.querySelectorAll('li.item')].filter((li) =>
      !li.closest('.done-items') === !row.el.closest('.done-items'))
    const at = inSection.indexOf(row.el)
    const li = inSection[at + 1] || inSection[at - 1]
    const stay = li ? li.querySelector('input.check') : null
    updateItem(doc, id, { checked })
    view.render()
    if (stay?.isConnected) stay.focus({ preventScroll: true })
    announce(t(checked ? 'list.checked' : 'list.unchecked', { name: item.name }))
  }

  /** The row element for an item, made on first sight and brought up to date. */
  function rowFor (item) {
    let row = rows.get(item.id)
    if (!row) { row = makeRow(item.id); rows.set(item.id, row) }
    updateRow(row, item)
    return row.el
  }

  function updateRow (row, item) {
    row.last = item
    const changed = view.changedByOthers.has(item.id)
    row.el.classList.toggle('changed', changed)
    row.changedMark.hidden = !changed
    row.el.classList.toggle('checked', item.checked)
    row.check.checked = item.checked
    row.check.disabled = session.readOnly
    setText(row.name, item.name)
    const q = [item.qty == null ? '' : formatQty(item.qty), formatUnit(item.unit, item.qty)].join(' ').trim()
    setText(row.qty, q)
    setText(row.note, item.note)
    row.note.hidden = !item.note
    row.edit.setAttribute('aria-label', t('item.edit', { name: item.name }))
    row.edit.title = t('item.edit', { name: item.name })
    row.edit.hidden = session.readOnly
    row.handle.setAttribute('aria-label', t('item.move', { name: item.name }))
    row.handle.title = t('item.move.hint')
    row.handle.hidden = session.readOnly
    row.del.setAttribute('aria-label', t('item.delete', { name: item.name }))
    row.del.title = t('item.delete', { name: item.name })
    row.del.hidden = session.readOnly
    if (editingId === row.id) fillEditor(row, item)
  }

  // --- the inline editor ----------------------------------------------------------------
  function buildEditor (row) {
    const item = view.current(row.id)
    const field = (key, label, { tag = 'input', options = [], ...attrs }) => {
      const input = h(tag, {
        id: `f-${key}-${row.id}`, name: key, ...attrs,
        oninput: () => { input.dataset.dirty = '1' },
        onchange: () => { delete input.dataset.dirty; commitField(row.id, key, input) }
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
      if (k === 'qty') return h('div.field.f-qty', lab, h('div.stepper', stepButton(row, -1), input, stepButton(row, 1)))
      return h(`div.field.f-${k}`, lab, input)
    })
    row.fields = fields
    row.editor.replaceChildren(h('div.fields', parts),
      h('div.actions',
        h('button', { type: 'button', onclick: () => toggleEdit(row.id, true) }, t('action.done'))))
    // What is typed but not yet committed survives a reload (see restoreEditor).
    row.editor.addEventListener('input', () => {
      const values = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value]))
      sessionStorage.setItem(editKey, JSON.stringify({ id: row.id, values }))
    })
    row.editor.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); toggleEdit(row.id, true) }
      if (e.key === 'Enter' && e.target.tagName === 'INPUT') { e.target.blur(); e.target.focus() }
    })
    fillEditor(row, item)
  }

  /** The item's values into the editor, except where the person typed and has not committed. */
  /** − / + beside the quantity: one less or one more, committed at once (never below 0). */
  function stepButton (row, by) {
    return h('button.icon.step', {
      type: 'button',
      'aria-label': t(by < 0 ? 'item.qty.less' : 'item.qty.more'),
      onclick () {
        const item = view.current(row.id)
        if (!item || session.readOnly) return
        const qty = Math.max(0, (item.qty ?? 1) + by)
        delete row.fields.qty.dataset.dirty
        updateItem(doc, row.id, { qty })
        row.fields.qty.value = String(qty)
      }
    }, by < 0 ? '−' : '+')
  }

  function fillEditor (row, item) {
    if (!row.fields || !item) return
    const shown = {
      name: item.name,
      qty: item.qty == null ? '' : String(item.qty),
      unit: formatUnit(item.unit, item.qty),
      category: item.category,
      note: item.note
    }
    for (const [k, v] of Object.entries(shown)) if (!row.fields[k].dataset.dirty) setValue(row.fields[k], v)
  }

  function commitField (id, key, input) {
    if (session.readOnly) return
    let v = input.value
    if (key === 'qty') v = v === '' ? null : Number(v)
    if (key === 'unit') {
      const item = view.current(id)
      if (item && v === formatUnit(item.unit, item.qty)) return // shown in the UI language, unchanged
      v = canonicalUnit(v)
    }
    if (key === 'name' && !v.trim()) { fillEditor(rows.get(id), view.current(id)); return }
    updateItem(doc, id, { [key]: v })
  }

  function toggleEdit (id, close = false) {
    if (session.readOnly) return
    const prev = editingId
    if (prev && rows.has(prev)) {
      const r = rows.get(prev)
      // Closing commits what was typed (a restored draft has not seen a change event).
      if (r.fields) {
        for (const [k, input] of Object.entries(r.fields)) {
          if (document.activeElement === input || input.dataset.dirty) { delete input.dataset.dirty; commitField(prev, k, input) }
        }
      }
      r.editor.hidden = true
      r.edit.setAttribute('aria-expanded', 'false')
      r.el.classList.remove('editing')
    }
    editingId = close || prev === id ? null : id
    if (editingId) sessionStorage.setItem(editKey, JSON.stringify({ id: editingId, values: null }))
    else sessionStorage.removeItem(editKey)
    if (editingId) {
      const r = rows.get(id)
      buildEditor(r)
      r.editor.hidden = false
      r.edit.setAttribute('aria-expanded', 'true')
      r.el.classList.add('editing')
      r.fields.name.focus()
    } else if (rows.has(id)) {
      rows.get(id).edit.focus()
    }
  }

  /** After a render: forget rows whose items are gone. */
  function prune (seen) {
    if (editingId && !seen.has(editingId)) lostWhileEditing(rows.get(editingId))
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id)
  }

  /**
   * Someone else deleted the item open in the editor: keep what was typed and offer to put the
   * item back (with those values), and keep focus on something rather than the page.
   */
  function lostWhileEditing (row) {
    editingId = null
    sessionStorage.removeItem(editKey)
    const last = row?.last
    if (!last || !row.fields) return
    const typed = Object.fromEntries(Object.entries(row.fields).map(([k, el]) => [k, el.value]))
    const restore = () => {
      const qty = typed.qty === '' ? null : Number(typed.qty)
      const unit = typed.unit === formatUnit(last.unit, last.qty) ? last.unit : canonicalUnit(typed.unit)
      const id = addItem(doc, {
        name: typed.name.trim() || last.name,
        qty: Number.isFinite(qty) ? qty : last.qty,
        unit,
        category: typed.category,
        note: typed.note
      }, last.created_by)
      if (id && last.order) updateItem(doc, id, { order: last.order })
      announce(t('list.restored', { name: typed.name || last.name }))
      view.render()
      rows.get(id)?.edit.focus()
    }
    const button = toast(t('edit.gone', { name: last.name }), t('edit.restore'), restore, { sticky: true })
    button.focus()
  }

  function closeEditor () {
    if (editingId) toggleEdit(editingId, true)
  }

  // --- delete with undo -----------------------------------------------------------------
  function remove (id) {
    const item = view.current(id)
    if (!item || session.readOnly) return
    const m = itemsMap(doc).get(id)
    const snapshot = m instanceof Y.Map ? m.toJSON() : null
    if (editingId === id) toggleEdit(id, true)
    const next = nextFocus(id)
    session.undo.stopCapturing()
    deleteItem(doc, id)
    const stackItem = session.undo.undoStack[session.undo.undoStack.length - 1]
    session.undo.stopCapturing()
    view.render()
    next?.focus()
    toast(t('list.deleted', { name: item.name }), t('action.undo'), () => {
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
    return li ? li.querySelector('input.check') : addInput
  }

  return { rowFor, prune, closeEditor, restoreEditor }
}
