// The "often bought" chips from GET /api/lists/{id}/suggestions ({suggestions: [{name, ...}]}).
import { h } from '../dom.js'
import { t, currentLang } from '../../lib/i18n.js'
import { getSuggestions } from '../../lib/api.js'
import { addItem, updateItem } from '../../lib/items.js'
import { parseEntry } from '../../lib/intel.js'
import { announce } from '../dom.js'

export function makeSuggestions (view) {
  const { session, doc, listId } = view
  const el = h('div.suggestions', { hidden: true, role: 'group', 'aria-label': t('suggest.label') })
  let timer = 0
  let last = []

  function loadSoon () {
    clearTimeout(timer)
    timer = setTimeout(load, 1500)
  }

  async function load () {
    if (session.readOnly) { el.hidden = true; return }
    const data = await getSuggestions(listId, session.token)
    if (view.destroyed) return
    last = (data?.suggestions || []).map((s) => s.name).filter(Boolean)
    view.render()
    const have = new Set(view.items.filter((i) => !i.checked).map((i) => i.name.toLowerCase()))
    const fresh = (data?.suggestions || [])
      .filter((s) => s.name && !have.has(s.name.toLowerCase()))
      .slice(0, 8)
    el.hidden = !fresh.length
    el.replaceChildren(h('span.muted', {}, t('suggest.title')), ...fresh.map((s) => h('button.chip', {
      type: 'button',
      'aria-label': t('suggest.add', { name: s.name }),
      title: s.reason || null,
      onclick () {
        if (session.readOnly) return
        // A suggestion may point at an item already bought: put it back rather than duplicate.
        if (s.item_id && view.current(s.item_id)?.checked) updateItem(doc, s.item_id, { checked: false })
        else addItem(doc, parseEntry(s.name, currentLang()), view.createdBy())
        announce(t('list.added', { name: s.name }))
        loadSoon()
      }
    }, `+ ${s.name}`)))
  }

  /** The names the server last suggested (for autocomplete). */
  const names = () => last

  return { el, load, loadSoon, names, stop: () => clearTimeout(timer) }
}
