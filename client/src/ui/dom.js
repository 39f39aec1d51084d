// A tiny DOM helper: h('button.primary', {onclick, 'aria-label': ...}, 'text', child...)
export function h (spec, attrs = {}, ...children) {
  if (attrs instanceof Node || Array.isArray(attrs) || typeof attrs !== 'object') {
    children.unshift(attrs)
    attrs = {}
  }
  const [tag, ...classes] = spec.split('.')
  const el = document.createElement(tag || 'div')
  if (classes.length) el.className = classes.join(' ')
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else if (k === 'value') el.value = v
    else if (k === 'checked') el.checked = !!v
    else if (k === 'class') el.className = `${el.className} ${v}`.trim()
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  append(el, children)
  return el
}

function append (el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
}

/** Makes `parent`'s element children exactly `els`, moving as few nodes as possible. */
export function syncChildren (parent, els) {
  els.forEach((el, i) => {
    const at = parent.children[i]
    if (at !== el) parent.insertBefore(el, at || null)
  })
  while (parent.children.length > els.length) parent.lastElementChild.remove()
}

export function setText (el, text) {
  if (el.textContent !== text) el.textContent = text
}

/** Sets an input's value unless the user is typing in it. */
export function setValue (input, value) {
  if (document.activeElement !== input && input.value !== value) input.value = value
}

let live
export function announce (text) {
  live = live || document.getElementById('announce')
  if (!live) return
  live.textContent = ''
  requestAnimationFrame(() => { live.textContent = text })
}

/** A <details> that remembers being folded (localStorage `key`, this device): open unless it was
 * folded. Saved on the summary's click (mouse or keyboard), not only on `toggle`, which fires in a
 * later task: a reload right after folding would otherwise lose it. */
export function foldable (spec, key, summary, ...children) {
  const el = h(spec, { open: localStorage.getItem(key) !== '0' }, summary, ...children)
  const save = (open) => localStorage.setItem(key, open ? '1' : '0')
  summary.addEventListener('click', (e) => { if (!e.defaultPrevented) save(!el.open) })
  el.addEventListener('toggle', () => save(el.open))
  return el
}
