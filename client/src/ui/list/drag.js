// Reordering within a group: Alt+arrows or arrows on the grip, and dragging the grip.
import { t } from '../../lib/i18n.js'
import { moveItem } from '../../lib/items.js'
import { announce } from '../dom.js'

export function makeReorder (view) {
  const { session, doc, rows } = view
  let dragging = null

  /** The visible items the item moves among: its category group, or the Done list. */
  function sequenceOf (id) {
    const item = view.current(id)
    if (!item) return []
    if (item.checked) return view.items.filter((i) => i.checked)
    return view.groups.find((g) => g.items.some((i) => i.id === id))?.items || []
  }

  function keyMove (e, id) {
    if (session.readOnly || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return
    e.preventDefault()
    const seq = sequenceOf(id)
    const i = seq.findIndex((x) => x.id === id)
    if (e.key === 'ArrowUp' && i > 0) moveItem(doc, id, i > 1 ? seq[i - 2].id : null, seq)
    else if (e.key === 'ArrowDown' && i < seq.length - 1) moveItem(doc, id, seq[i + 1].id, seq)
    else return
    view.render()
    const pos = sequenceOf(id).findIndex((x) => x.id === id) + 1
    rows.get(id)?.handle.focus()
    announce(t('item.moved', { name: view.current(id)?.name || '', pos, n: seq.length }))
  }

  function startDrag (e, id) {
    if (session.readOnly || e.button > 0) return
    const row = rows.get(id)
    const seq = sequenceOf(id)
    // Where the others are, measured afresh on each move (a re-render may have shifted them).
    const measure = () => seq.filter((x) => x.id !== id && rows.has(x.id)).map((x) => {
      const r = rows.get(x.id)
      const box = r.el.getBoundingClientRect()
      return { id: x.id, el: r.el, mid: box.top + box.height / 2 }
    })
    let others = measure()
    e.preventDefault()
    row.handle.setPointerCapture(e.pointerId)
    dragging = { startY: e.clientY, afterId: undefined }
    row.el.classList.add('dragging')
    const move = (ev) => {
      row.el.style.transform = ''
      others = measure()
      row.el.style.transform = `translateY(${ev.clientY - dragging.startY}px)`
      const before = others.filter((o) => o.mid < ev.clientY)
      dragging.afterId = before.length ? before[before.length - 1].id : null
      for (const o of others) o.el.classList.toggle('drop-after', o.id === dragging.afterId)
      row.el.parentElement.classList.toggle('drop-first', dragging.afterId === null)
    }
    // On window, not the grip: a re-render that moves the row (the server filing it in a
    // category meanwhile) drops the pointer capture, and the drag must go on regardless.
    const end = () => {
      removeEventListener('pointermove', move)
      removeEventListener('pointerup', end)
      removeEventListener('pointercancel', end)
      row.el.classList.remove('dragging')
      row.el.style.transform = ''
      row.el.parentElement?.classList.remove('drop-first')
      for (const o of others) o.el.classList.remove('drop-after')
      const { afterId } = dragging
      dragging = null
      if (afterId !== undefined) moveItem(doc, id, afterId, seq)
    }
    addEventListener('pointermove', move)
    addEventListener('pointerup', end)
    addEventListener('pointercancel', end)
  }

  return { keyMove, startDrag }
}
