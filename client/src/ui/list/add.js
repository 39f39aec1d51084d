// The add box: typed text -> an item (intel.parseEntry); a name already open on the list asks
// "add to the existing one / add anyway" (offline too); unsent text survives a reload; the
// box autocompletes from this list's history and the server's suggestions.
import { h, syncChildren, announce } from '../dom.js'
import { t, currentLang, formatQty, formatUnit } from '../../lib/i18n.js'
import { addItem, updateItem, mergedQty } from '../../lib/items.js'
import { parseEntry, findDuplicate } from '../../lib/intel.js'
import { choiceDialog } from '../dialogs.js'

const qtyText = (qty, unit) => [qty == null ? '' : formatQty(qty), formatUnit(unit, qty)].join(' ').trim()

export function makeAddForm (view, { suggestions }) {
  const { session, doc, listId } = view
  const input = h('input', {
    id: 'add-item', name: 'item', autocomplete: 'off', maxlength: 300, list: 'item-names',
    placeholder: t('list.add.placeholder'), enterkeyhint: 'done'
  })
  const form = h('form.add.row', { onsubmit }, h('label.sr-only', { for: 'add-item' }, t('list.add.label')), input,
    h('button.primary', { type: 'submit' }, t('list.add.submit')))

  async function onsubmit (e) {
    e.preventDefault()
    const text = input.value.trim()
    if (!text || session.readOnly) return
    const fields = parseEntry(text, currentLang())
    const id = await addFields(fields, { refocus: input })
    if (id) {
      input.value = ''
      sessionStorage.removeItem(draftKey)
      announce(t('list.added', { name: fields.name }))
      suggestions.loadSoon()
    }
  }

  /**
   * Adds item fields the way typing does (the suggestions panel's "+" too): a name already
   * open on the list ("Молока" next to "молоко") asks first, here and offline alike. Returns
   * the id of the item added or merged into, null when the person cancelled.
   */
  async function addFields (fields, { refocus = null } = {}) {
    const dup = findDuplicate(fields.name, view.items)
    if (!dup) return addItem(doc, fields, view.createdBy())
    const now = qtyText(dup.qty, dup.unit)
    const merged = mergedQty(dup, fields)
    const choice = await choiceDialog(t('dup.question', { name: now ? `${dup.name} (${now})` : dup.name }), [
      { value: 'cancel', label: t('action.cancel') },
      { value: 'add', label: t('dup.add') },
      { value: 'merge', label: t('dup.merge', { qty: qtyText(merged, dup.unit || fields.unit) }), primary: true }
    ], { className: 'dup' })
    refocus?.focus()
    if (choice === 'merge') {
      updateItem(doc, dup.id, { qty: merged, ...(dup.unit ? {} : { unit: fields.unit }) })
      return dup.id
    }
    return choice === 'add' ? addItem(doc, fields, view.createdBy()) : null
  }

  // Unsent text in the add box survives a reload (per list, this device only).
  const draftKey = `listok.draft.${listId}`
  input.value = sessionStorage.getItem(draftKey) || ''
  input.addEventListener('input', () => {
    if (input.value) sessionStorage.setItem(draftKey, input.value)
    else sessionStorage.removeItem(draftKey)
  })

  // Autocomplete from this list's own history (ticked items) and the server's suggestions.
  const names = h('datalist', { id: 'item-names' })
  function updateNames () {
    const open = new Set(view.items.filter((i) => !i.checked).map((i) => i.name.toLowerCase()))
    const all = [...view.items.filter((i) => i.checked).map((i) => i.name), ...suggestions.names()]
    const fresh = [...new Set(all)].filter((n) => !open.has(n.toLowerCase())).slice(0, 50)
    syncChildren(names, fresh.map((n) => names.querySelector(`option[value="${CSS.escape(n)}"]`) || h('option', { value: n })))
  }

  return { form, input, names, updateNames, addFields }
}
