// Catalog widgets for the list screen: product suggestions with prices under the add box, the
// totals line, and the shop picker. Each is attached by one call from ui/list.js (see
// changes/catalog.md for where) and does nothing visible when the server has no catalog.

import { h, setText } from './dom.js'
import {
  catalogT, formatPrice, getShop, productLink, searchProducts, setShop, totalsSummary
} from '../lib/catalog.js'

/**
 * Product suggestions for an input: typing shows up to six offers with their price; picking
 * one calls onPick(name, productLink). Returns a function that detaches it.
 */
export function attachProductSuggestions (input, { token, locale, lang, store, onPick }) {
  const t = catalogT(lang)
  const box = h('ul.catalog-suggestions', { role: 'listbox', hidden: true })
  input.after(box)
  let timer = null
  let ctl = null

  const hide = () => { box.hidden = true; box.replaceChildren() }
  const show = (offers) => {
    if (!offers.length) return hide()
    box.replaceChildren(...offers.map(offer => h('li.catalog-offer', {
      role: 'option',
      dataset: { sku: offer.sku, store: offer.store },
      onmousedown: (e) => { e.preventDefault(); hide(); onPick(offer.name, productLink(offer)) }
    },
    h('span.catalog-name', offer.name),
    h('span.catalog-price', offer.available ? formatPrice(offer.price, offer.currency, locale) : t('catalog.unavailable')),
    h('span.catalog-store', offer.store))))
    box.hidden = false
  }
  const onInput = () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      if (ctl) ctl.abort()
      ctl = new AbortController()
      show(await searchProducts(token(), input.value, { store: store && store(), signal: ctl.signal }))
    }, 120)
  }
  input.addEventListener('input', onInput)
  input.addEventListener('blur', hide)
  return () => {
    input.removeEventListener('input', onInput)
    input.removeEventListener('blur', hide)
    box.remove()
  }
}

/** The "≈ 4 815 ₸ at Magnum · 300 ₸ cheaper than Small" line; hidden without prices. */
export function renderTotals (el, totals, { locale, lang }) {
  const line = totalsSummary(totals, locale, catalogT(lang))
  el.hidden = !line
  setText(el, line || '')
}

/**
 * A shop picker for a list: the catalog's stores (from the list's totals) and "no shop".
 * onChange({shop, order}) gets the shop's aisle order to sort the list by.
 */
export async function shopPicker (el, { listId, token, stores, lang, onChange }) {
  const t = catalogT(lang)
  const current = await getShop(listId, token)
  if (!current || !stores.length) { el.hidden = true; return }
  const select = h('select.catalog-shop', {
    'aria-label': t('catalog.shop'),
    onchange: async () => {
      const next = await setShop(listId, token, select.value || null)
      if (next) onChange(next)
    }
  },
  h('option', { value: '' }, t('catalog.noShop')),
  stores.map(s => h('option', { value: s, selected: s === current.shop }, s)))
  el.replaceChildren(h('label', t('catalog.shop'), ' ', select))
  el.hidden = false
  onChange(current)
}
