// The catalog in the app: product lookup, the item's product link, totals and the shop's
// aisle order. No DOM here (ui/catalog.js renders); every call goes through fetch with the
// list's token, and a server without the catalog answers null, so the UI leaves it out.

import { itemsMap, LOCAL } from './items.js'

const SYMBOLS = { KZT: '₸', RUB: '₽', EUR: '€', USD: '$' }

/** "1 250 ₸", "1 250,50 ₽", "€12.50": Intl with the narrow symbol; a bare number without one. */
export function formatPrice (amount, currency, locale) {
  if (amount == null || !Number.isFinite(Number(amount))) return ''
  const value = Number(amount)
  const digits = Number.isInteger(value) ? 0 : 2
  const code = (currency || '').toUpperCase()
  if (/^[A-Z]{3}$/.test(code)) {
    try {
      return new Intl.NumberFormat(locale || undefined, {
        style: 'currency',
        currency: code,
        currencyDisplay: 'narrowSymbol',
        minimumFractionDigits: digits,
        maximumFractionDigits: digits
      }).format(value)
    } catch { /* an unknown code: fall through */ }
  }
  const number = new Intl.NumberFormat(locale || undefined, {
    minimumFractionDigits: digits, maximumFractionDigits: digits
  }).format(value)
  return SYMBOLS[code] ? `${number} ${SYMBOLS[code]}` : number
}

/** What an item stores when a product is picked: {store, sku, name, price, currency, unit_price?} */
export function productLink (offer) {
  const link = {
    store: offer.store, sku: offer.sku, name: offer.name, price: offer.price, currency: offer.currency
  }
  if (offer.unit_price != null) link.unit_price = offer.unit_price
  return link
}

/** Sets (or with null, clears) an item's product in the list document, as PATCH does. */
export function linkProduct (ydoc, itemId, link) {
  const item = itemsMap(ydoc).get(itemId)
  if (!item || typeof item.set !== 'function') return false
  ydoc.transact(() => {
    item.set('product', link ? productLink(link) : null)
    item.set('updated_at', Date.now())
  }, LOCAL)
  return true
}

function auth (token, json) {
  const h = {}
  if (token) h.Authorization = `Bearer ${token}`
  if (json) h['Content-Type'] = 'application/json'
  return h
}

async function getJson (path, { token, method = 'GET', body, signal } = {}) {
  try {
    const res = await fetch(path, {
      method,
      headers: auth(token, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store'
    })
    return res.ok ? await res.json() : null
  } catch {
    return null // offline, aborted, or no catalog on this server
  }
}

/** Products for what is being typed, best first; [] when offline or nothing matches. */
export async function searchProducts (token, q, { limit = 6, store, signal } = {}) {
  const text = (q || '').trim()
  if (text.length < 2) return []
  const params = new URLSearchParams({ q: text.slice(0, 100), limit: String(limit) })
  if (store) params.set('store', store)
  const data = await getJson(`/api/products?${params}`, { token, signal })
  return (data && Array.isArray(data.items)) ? data.items : []
}

const shopUrl = (listId) => `/api/lists/${encodeURIComponent(listId)}/shop`
export const getShop = (listId, token) => getJson(shopUrl(listId), { token })
export const setShop = (listId, token, shop, order) =>
  getJson(shopUrl(listId), {
    token, method: 'PUT', body: order === undefined ? { shop } : { shop, order }
  })

/**
 * The line under a list: the estimated total where it is cheapest, and the gap to the next
 * store. `t(key, vars)` translates ('catalog.total', 'catalog.cheaper', 'catalog.stale',
 * 'catalog.unpriced'). Returns null when no store prices anything.
 */
export function totalsSummary (totals, locale, t) {
  if (!totals || !Array.isArray(totals.stores)) return null
  const priced = totals.stores.filter(s => s.priced > 0)
  if (!priced.length) return null
  const best = priced.find(s => s.store === totals.cheapest) || priced[0]
  const parts = [t('catalog.total', {
    total: formatPrice(best.total, best.currency, locale), store: best.store
  })]
  const rivals = priced.filter(s => s !== best && s.priced === best.priced && s.currency === best.currency)
  if (rivals.length) {
    const next = rivals.reduce((a, b) => (b.total < a.total ? b : a))
    parts.push(t('catalog.cheaper', {
      store: best.store, diff: formatPrice(next.total - best.total, best.currency, locale), other: next.store
    }))
  }
  if (best.unpriced > 0) parts.push(t('catalog.unpriced', { count: best.unpriced }))
  if (best.stale) parts.push(t('catalog.stale', { date: best.catalog_date || '' }))
  return parts.join(' · ')
}

/** Items sorted by the shop's aisle order (categories it does not know go last, stable). */
export function sortByAisle (items, order) {
  if (!Array.isArray(order) || !order.length) return items.slice()
  const rank = new Map(order.map((c, i) => [c, i]))
  return items
    .map((item, i) => ({ item, i, r: rank.has(item.category) ? rank.get(item.category) : order.length }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(x => x.item)
}

export const CATALOG_STRINGS = {
  en: {
    'catalog.total': '≈ {total} at {store}',
    'catalog.cheaper': '{diff} cheaper than {other}',
    'catalog.unpriced': '{count} without a price',
    'catalog.stale': 'prices from {date}, may be out of date',
    'catalog.shop': 'Shop',
    'catalog.noShop': 'No shop',
    'catalog.unavailable': 'not in stock'
  },
  ru: {
    'catalog.total': '≈ {total} в {store}',
    'catalog.cheaper': 'на {diff} дешевле, чем в {other}',
    'catalog.unpriced': 'без цены: {count}',
    'catalog.stale': 'цены от {date}, могли измениться',
    'catalog.shop': 'Магазин',
    'catalog.noShop': 'Без магазина',
    'catalog.unavailable': 'нет в наличии'
  }
}

/** A tiny translator over CATALOG_STRINGS, for callers without the app's i18n. */
export function catalogT (lang) {
  const table = CATALOG_STRINGS[lang] || CATALOG_STRINGS.en
  return (key, vars = {}) => (table[key] || key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''))
}
