// Item writes follow the list schema; moves land where dropped, even on tied order keys;
// undo reverts this device's own changes only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import {
  LOCAL, addItem, deleteItem, itemsMap, moveItem, readItems, updateItem
} from '../src/lib/items.js'
import { ITEM_FIELDS } from '../src/lib/schema.js'

const names = (doc) => readItems(doc).map((i) => i.name)

function sync (a, b) {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

test('addItem writes one nested Y.Map with every schema field', () => {
  const doc = new Y.Doc()
  const id = addItem(doc, { name: ' milk ', qty: 2, unit: 'l', category: 'dairy' }, 'Anna')
  assert.match(id, /^[A-Za-z0-9_-]{16}$/)
  const m = itemsMap(doc).get(id)
  assert.ok(m instanceof Y.Map)
  assert.deepEqual([...m.keys()].sort(), [...ITEM_FIELDS].sort())
  const item = m.toJSON()
  assert.equal(item.name, 'milk')
  assert.equal(item.qty, 2)
  assert.equal(item.unit, 'l')
  assert.equal(item.note, '')
  assert.equal(item.category, 'dairy')
  assert.equal(item.checked, false)
  assert.equal(item.checked_at, null)
  assert.equal(item.created_by, 'Anna')
  assert.equal(typeof item.order, 'string')
  assert.equal(item.created_at, item.updated_at)
  assert.equal(addItem(doc, { name: '   ' }, 'Anna'), null)
  assert.equal(addItem(doc, { name: 'x', category: 'nonsense' }, 'Anna') !== null, true)
  assert.equal(readItems(doc)[1].category, '')
})

test('updateItem writes only changed fields; checking stamps checked_at', () => {
  const doc = new Y.Doc()
  const id = addItem(doc, { name: 'eggs' }, 'Anna')
  const m = itemsMap(doc).get(id)
  const changed = []
  m.observe((e) => changed.push(...e.keysChanged))
  assert.equal(updateItem(doc, id, { name: 'eggs', qty: 12 }), true)
  assert.deepEqual(changed.sort(), ['qty', 'updated_at'])
  assert.equal(updateItem(doc, id, { qty: 12 }), false)
  updateItem(doc, id, { checked: true })
  assert.equal(typeof m.get('checked_at'), 'number')
  updateItem(doc, id, { checked: false })
  assert.equal(m.get('checked_at'), null)
})

test('two replicas editing different fields of one item keep both changes', () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  const id = addItem(a, { name: 'eggs' }, 'Anna')
  sync(a, b)
  updateItem(a, id, { qty: 12 })
  updateItem(b, id, { note: 'free range' })
  sync(a, b)
  for (const doc of [a, b]) {
    const item = readItems(doc)[0]
    assert.equal(item.qty, 12)
    assert.equal(item.note, 'free range')
  }
})

test('moveItem puts an item after another, and first', () => {
  const doc = new Y.Doc()
  for (const n of ['a', 'b', 'c', 'd']) addItem(doc, { name: n }, '')
  moveItem(doc, readItems(doc)[3].id, readItems(doc)[0].id, readItems(doc))
  assert.deepEqual(names(doc), ['a', 'd', 'b', 'c'])
  moveItem(doc, readItems(doc)[3].id, null, readItems(doc))
  assert.deepEqual(names(doc), ['c', 'a', 'd', 'b'])
})

test('moveItem lands between items whose keys tied after concurrent appends', () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  addItem(a, { name: 'first' }, '')
  sync(a, b)
  addItem(a, { name: 'x' }, '')
  addItem(b, { name: 'y' }, '')
  sync(a, b)
  const items = readItems(a)
  assert.equal(items[1].order, items[2].order) // the tie
  const [lo, hi] = [items[1], items[2]]
  const moved = addItem(a, { name: 'z' }, '')
  moveItem(a, moved, lo.id, readItems(a))
  assert.deepEqual(names(a), ['first', lo.name, 'z', hi.name])
  sync(a, b)
  assert.deepEqual(names(b), names(a))
})

test('undo reverts this device\'s delete and leaves remote changes alone', () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  const undo = new Y.UndoManager([itemsMap(a)], { trackedOrigins: new Set([LOCAL]) })
  const id = addItem(a, { name: 'bread' }, 'Anna')
  undo.stopCapturing()
  sync(a, b)
  addItem(b, { name: 'cheese' }, 'Boris')
  sync(a, b)
  deleteItem(a, id)
  assert.deepEqual(names(a), ['cheese'])
  undo.undo()
  assert.deepEqual(names(a).sort(), ['bread', 'cheese'])
  assert.equal(readItems(a).find((i) => i.name === 'bread').created_by, 'Anna')
  undo.undo() // the add of bread: the only other own change
  assert.deepEqual(names(a), ['cheese'])
})
