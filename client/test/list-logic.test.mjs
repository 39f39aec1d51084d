// The list logic the app adds on top of the schema: merged quantities (server/api.py's rule)
// and the per-list shop order of the categories, including two devices setting it at once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { mergedQty, readCategoryOrder, setCategoryOrder, metaMap } from '../src/lib/items.js'
import { CATEGORIES } from '../src/lib/schema.js'

test('mergedQty adds when the units agree, else counts one more (as the server does)', () => {
  assert.equal(mergedQty({ qty: 2, unit: 'l' }, { qty: 1, unit: 'l' }), 3)
  assert.equal(mergedQty({ qty: 2, unit: null }, { qty: 3, unit: null }), 5)
  assert.equal(mergedQty({ qty: 2, unit: 'l' }, { qty: 500, unit: 'ml' }), 3)
  assert.equal(mergedQty({ qty: null, unit: null }, { qty: null, unit: null }), 2)
  assert.equal(mergedQty({ qty: 999_999, unit: 'g' }, { qty: 5, unit: 'g' }), 1_000_000)
})

test('the shop order: saved slugs first, unknown and repeated ones dropped, the rest appended', () => {
  const doc = new Y.Doc()
  assert.deepEqual(readCategoryOrder(doc), CATEGORIES)
  setCategoryOrder(doc, ['household', 'produce', 'household', 'bogus'])
  assert.deepEqual(metaMap(doc).get('category_order'), ['household', 'produce'])
  const order = readCategoryOrder(doc)
  assert.deepEqual(order.slice(0, 2), ['household', 'produce'])
  assert.deepEqual([...order].sort(), [...CATEGORIES].sort())
  metaMap(doc).set('category_order', 'not a list') // from an older or hostile client
  assert.deepEqual(readCategoryOrder(doc), CATEGORIES)
})

test('two devices setting the shop order converge on one of them', () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  setCategoryOrder(a, ['meat', 'fish'])
  setCategoryOrder(b, ['drinks'])
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
  assert.deepEqual(readCategoryOrder(a), readCategoryOrder(b))
})
