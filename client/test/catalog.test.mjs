import { test } from 'node:test'
import assert from 'node:assert/strict'
import { catalogT, formatPrice, productLink, sortByAisle, totalsSummary } from '../src/lib/catalog.js'

test('prices carry the currency sign of each locale', () => {
  assert.match(formatPrice(1250, 'KZT', 'ru-KZ'), /^1\s250\s₸$/)
  assert.match(formatPrice(1250.5, 'RUB', 'ru-RU'), /^1\s250,50\s₽$/)
  assert.match(formatPrice(12.5, 'EUR', 'en-IE'), /^€12\.50$/)
  assert.equal(formatPrice(null, 'KZT', 'ru'), '')
  assert.match(formatPrice(100, '', 'en'), /^100$/)
})

test('a picked offer becomes the item product link', () => {
  const offer = { store: 'M', sku: '1', name: 'Молоко', price: 500, currency: 'KZT', brand: 'x', unit_price: null }
  assert.deepEqual(productLink(offer), { store: 'M', sku: '1', name: 'Молоко', price: 500, currency: 'KZT' })
})

test('the totals line names the cheapest shop and the gap', () => {
  const totals = {
    cheapest: 'A',
    stores: [
      { store: 'A', currency: 'KZT', total: 1000, priced: 2, unpriced: 1, stale: false },
      { store: 'B', currency: 'KZT', total: 1300, priced: 2, unpriced: 1, stale: true, catalog_date: '2026-01-01' }
    ]
  }
  const line = totalsSummary(totals, 'ru-KZ', catalogT('ru'))
  assert.match(line, /^≈ 1\s000\s₸ в A · на 300\s₸ дешевле, чем в B · без цены: 1$/)
  assert.equal(totalsSummary({ stores: [] }, 'en', catalogT('en')), null)
})

test('items follow the shop aisle order, unknown categories last', () => {
  const items = [{ n: 1, category: 'frozen' }, { n: 2, category: '' }, { n: 3, category: 'produce' }, { n: 4, category: 'dairy' }]
  assert.deepEqual(sortByAisle(items, ['produce', 'dairy', 'frozen']).map(i => i.n), [3, 4, 1, 2])
  assert.deepEqual(sortByAisle(items, []).map(i => i.n), [1, 2, 3, 4])
})

test('linking a product writes it into the item, unlinking clears it', async () => {
  const Y = await import('yjs')
  const { addItem, itemsMap } = await import('../src/lib/items.js')
  const { linkProduct } = await import('../src/lib/catalog.js')
  const doc = new Y.Doc()
  const id = addItem(doc, { name: 'молоко' }, 'me')
  const offer = { store: 'M', sku: '7', name: 'Молоко 1 л', price: 500, currency: 'KZT', unit_price: 500 }
  assert.equal(linkProduct(doc, id, offer), true)
  assert.deepEqual(itemsMap(doc).get(id).get('product'), offer)
  linkProduct(doc, id, null)
  assert.equal(itemsMap(doc).get(id).get('product'), null)
  assert.equal(linkProduct(doc, 'nope', offer), false)
})
