// "Shop order": the list's categories in the order one walks the shop (per list, shared with
// everyone on it through the document's meta).
import { h, announce } from '../dom.js'
import { t } from '../../lib/i18n.js'
import { readCategoryOrder, setCategoryOrder } from '../../lib/items.js'
import { panelDialog } from '../dialogs.js'

export function openOrderDialog (view) {
  const { doc } = view
  const list = h('ol.cat-order')
  function draw (focusKey) {
    const order = readCategoryOrder(doc)
    list.replaceChildren(...order.map((c, i) => {
      const name = t(`cat.${c}`)
      const move = (by) => {
        const next = [...order]
        next.splice(i, 1)
        next.splice(i + by, 0, c)
        setCategoryOrder(doc, next)
        announce(t('order.moved', { name, pos: i + by + 1, n: order.length }))
        draw(`${c}:${by}`)
      }
      const up = h('button.icon', { type: 'button', 'aria-label': t('order.up', { name }), disabled: i === 0, onclick: () => move(-1) }, '↑')
      const down = h('button.icon', { type: 'button', 'aria-label': t('order.down', { name }), disabled: i === order.length - 1, onclick: () => move(1) }, '↓')
      if (focusKey === `${c}:-1`) queueMicrotask(() => (up.disabled ? down : up).focus())
      if (focusKey === `${c}:1`) queueMicrotask(() => (down.disabled ? up : down).focus())
      return h('li.row', { dataset: { cat: c } }, h('span.grow', {}, name), up, down)
    }))
  }
  draw()
  panelDialog(t('order.title'), h('div', h('p.muted', {}, t('order.help')), list), () => view.render())
}
