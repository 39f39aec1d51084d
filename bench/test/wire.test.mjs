// The light generator's receivers trust lib/wire.mjs updateRanges instead of yjs: check it
// against yjs' own decoder on the updates the scripts send, merged updates, and content kinds
// the scripts never send (text, arrays, deletions, nested types, binary, subdocuments).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import { bulkScript, encodeScript, expectedState, householdScript, steadyScript } from '../lib/scripts.mjs'
import { awarenessFrame, encodeStateVector, Reader, updateRanges } from '../lib/wire.mjs'

/** [client, start, end] per struct group, as yjs decodes it. */
function yjsRanges (update) {
  const { structs } = Y.decodeUpdate(update)
  const out = []
  for (const s of structs) {
    const last = out.length ? out[out.length - 1] : null
    if (last && last[0] === s.id.client && last[2] === s.id.clock) last[2] += s.length
    else out.push([s.id.client, s.id.clock, s.id.clock + s.length])
  }
  return out.flat()
}

const payload = (frame) => new Reader(frame, 2).bytes()

test('ranges of every scripted update match yjs', () => {
  for (const script of [householdScript(4, 2, 1), steadyScript(3, 2, 5, 2), bulkScript(1, 20)]) {
    const enc = encodeScript(script, 1000)
    for (const frame of enc.frames) assert.deepEqual(updateRanges(payload(frame)).ranges, yjsRanges(payload(frame)))
  }
})

test('ranges of merged updates (what Listok and Hocuspocus broadcast) match yjs', () => {
  const enc = encodeScript(householdScript(5, 3, 3), 77)
  const merged = Y.mergeUpdates(enc.frames.map(payload))
  assert.deepEqual(updateRanges(merged).ranges, yjsRanges(merged))
  // the last range of every slot ends at that slot's last op
  const r = updateRanges(merged).ranges
  for (let i = 0; i < r.length; i += 3) {
    const slot = r[i] - 77
    assert.equal(r[i + 2], enc.slotEnd[slot][enc.slotEnd[slot].length - 1])
  }
})

test('content kinds the scripts never send are skipped correctly', () => {
  const doc = new Y.Doc()
  doc.clientID = 42
  const text = doc.getText('t')
  text.insert(0, 'héllo wörld ✓ 𝄞') // astral: clocks count UTF-16 units
  text.format(0, 3, { bold: true })
  text.insertEmbed(2, { image: 'x' })
  const arr = doc.getArray('a')
  arr.insert(0, [1, 2.5, -7, 'x', null, true, false, { k: [1, { z: 'q' }] }, new Uint8Array([1, 2, 3]), 2 ** 40, 1e300])
  arr.insert(0, [new Y.Map(), new Y.Array(), new Y.XmlElement('p'), new Y.XmlText('x')])
  arr.push([new Y.Doc()])
  arr.delete(3, 4)
  text.delete(1, 3)
  const update = Y.encodeStateAsUpdate(doc)
  const got = updateRanges(update)
  assert.deepEqual(got.ranges, yjsRanges(update))
  assert.equal(got.deletes, true)
  assert.equal(got.ranges[2], Y.getState(doc.store, 42))
})

test('expected state follows the script', () => {
  const enc = encodeScript(householdScript(2, 1, 5), 9)
  const all = expectedState(enc, enc.ops.length)
  assert.equal(all.size, 12)
  for (const v of all.values()) assert.equal(v.checked, true)
  const doc = new Y.Doc()
  for (const f of enc.frames) Y.applyUpdate(doc, payload(f))
  const items = doc.getMap('items')
  assert.equal(items.size, 12)
  for (const [k, v] of all) assert.equal(items.get(k).get('name'), v.name)
})

test('state vectors and awareness frames decode with yjs / y-protocols layouts', () => {
  const sv = encodeStateVector(new Map([[5, 10], [300000, 2 ** 40]]))
  assert.deepEqual([...Y.decodeStateVector(sv)], [[5, 10], [300000, 2 ** 40]])
  const frame = awarenessFrame([[7, 3, '{"a":1}']])
  const r = new Reader(frame)
  assert.equal(r.uint(), 1)
  const p = new Reader(r.bytes())
  assert.deepEqual([p.uint(), p.uint(), p.uint(), p.string()], [1, 7, 3, '{"a":1}'])
})
