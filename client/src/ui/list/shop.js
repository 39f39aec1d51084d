// The catalog on the list screen: product offers with prices under the add box, the totals
// line ("≈ 4 815 ₸ at Magnum · 300 ₸ cheaper than Small"), the shop picker, and the category
// order the list is drawn in. With a shop picked, that shop's aisle order (learned from ticks
// there, or set by hand, shared by every list on the shop) comes first; the list's own "Shop
// order" (meta.category_order) places the categories the shop has no order for. A server
// without a catalog answers nothing here and none of it shows.
import { h } from '../dom.js'
import { currentLang } from '../../lib/i18n.js'
import { getList } from '../../lib/api.js'
import { addItem, readCategoryOrder, setCategoryOrder } from '../../lib/items.js'
import { formatPrice, getShop, linkProduct, mergedOrder, setShop } from '../../lib/catalog.js'
import { attachProductSuggestions, renderTotals, shopPicker } from '../catalog.js'

/** Numbers in the app's language; the region from the browser when it speaks that language. */
export function priceLocale () {
  const nav = (typeof navigator !== 'undefined' && navigator.language) || ''
  return nav.split('-')[0] === currentLang() ? nav : currentLang()
}

/** A linked product's price as the row shows it ("480,50 ₸"), '' without one. */
export const itemPrice = (item) =>
  item.product ? formatPrice(item.product.price, item.product.currency, priceLocale()) : ''

export function makeShop (view, { input }) {
  const { session, doc, listId } = view
  const totalsEl = h('p.catalog-totals', { hidden: true, role: 'status' })
  const shopEl = h('span.catalog-shop-picker', { hidden: true })
  // Under the add box: the shop picker, then the totals line (both hidden without a catalog).
  const el = h('div.catalog-bar', shopEl, totalsEl)
  let shop = { shop: null, order: [] }
  let pickerShown = false

  const detach = attachProductSuggestions(input, {
    token: () => session.token,
    locale: priceLocale(),
    lang: currentLang(),
    store: () => shop.shop,
    onPick (name, link) {
      // The server's Product needs a price: an offer without one is added as a plain item.
      if (session.readOnly) return
      // The offer's name as is: "Яйца С1 10 шт" is one pack at its price, not 10 of them.
      const id = addItem(doc, { name }, view.createdBy())
      if (!id) return
      if (link.price != null) linkProduct(doc, id, link)
      input.value = ''
      input.dispatchEvent(new Event('input')) // clears the kept draft
      input.focus()
      view.afterAdd(name)
    }
  })

  /** The list's totals (and, once, the picker) from GET /api/lists/{id}. */
  async function load () {
    const res = await getList(listId, session.token)
    const data = res.ok ? res.data : null
    if (view.destroyed || !data?.totals) return
    renderTotals(totalsEl, data.totals, { locale: priceLocale(), lang: currentLang() })
    const stores = data.totals.stores.map((s) => s.store)
    if (pickerShown) return follow()
    if (!stores.length || session.readOnly) return
    pickerShown = true
    await shopPicker(shopEl, {
      listId,
      token: session.token,
      stores,
      lang: currentLang(),
      onChange (next) {
        shop = { shop: next.shop || null, order: Array.isArray(next.order) ? next.order : [] }
        view.render()
        load()
      }
    })
  }

  /** The shop someone else picked for the list, and its order as learned meanwhile. */
  async function follow () {
    const next = await getShop(listId, session.token)
    if (view.destroyed || !next) return
    const order = Array.isArray(next.order) ? next.order : []
    if (next.shop === shop.shop && order.join() === shop.order.join()) return
    shop = { shop: next.shop || null, order }
    const select = shopEl.querySelector('select')
    if (select) select.value = shop.shop || ''
    view.render()
  }

  return {
    el,
    load,
    /** The name of the shop the list is set to, or null. */
    shopName: () => shop.shop,
    /** The category order the list is drawn in (see the top of this file). */
    order: () => mergedOrder(shop.shop ? shop.order : [], readCategoryOrder(doc)),
    /** "Shop order" edits: the shop's order when one is picked (everyone there), else the list's. */
    async setOrder (next) {
      if (!shop.shop) { setCategoryOrder(doc, next); return }
      shop = { ...shop, order: next }
      const saved = await setShop(listId, session.token, shop.shop, next)
      if (saved && !view.destroyed) shop = { shop: saved.shop, order: saved.order }
      view.render()
    },
    destroy: detach
  }
}
