// Scripts a list's members follow, pre-encoded once with yjs (never on the hot path).
//
// A script is a time-ordered list of operations of one list: { slot, t, kind, key }, with t in
// script seconds. Every member (slot) has its own Yjs client id (slotBase + slot) and the same
// ids are reused by every list that runs the script (lists are separate documents), so one set
// of encoded frames serves every household. Each operation is encoded as one y-websocket
// update frame; what receivers need to recognise it is the end clock of its slot.
import * as Y from 'yjs'
import { generateKeyBetween } from 'fractional-indexing'
import { syncFrame, UPDATE, updateRanges } from './wire.mjs'

const CATEGORIES = ['produce', 'dairy', 'bakery', 'pantry', 'drinks', 'household']
const NAMES = ['milk', 'bread', 'apples', 'coffee', 'rice', 'soap', 'eggs', 'tea', 'butter', 'pasta', 'onions', 'cheese']

/** A small seeded PRNG (mulberry32): scripts are the same in every process of a run. */
export function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const jitter = (rand, mean) => mean * (0.5 + rand())

/**
 * A household of n (2-5) people: evenings are adds (the first two members plan: an item every
 * ~6 s), then a pause, then a shop visit (the last member ticks every item, one every ~2.5 s),
 * a pause, and again. One cycle is ~160 script seconds and 24 updates.
 */
export function householdScript (n, cycles, seed) {
  const rand = rng(seed)
  const ops = []
  let t = 0
  let k = 0
  for (let c = 0; c < cycles; c++) {
    const keys = []
    for (let i = 0; i < 12; i++) {
      t += jitter(rand, 6)
      const key = `h${c}-${i}-${k++}`
      keys.push(key)
      ops.push({ slot: i % Math.min(2, n), t, kind: 'add', key })
    }
    t += jitter(rand, 30)
    for (const key of keys) {
      t += jitter(rand, 2.5)
      ops.push({ slot: n - 1, t, kind: 'tick', key })
    }
    t += jitter(rand, 30)
  }
  return { kind: 'household', members: n, ops, seconds: t, cycleSeconds: t / cycles }
}

/** Profile-M-like steady load: each of n members adds an item `rate` times a second. */
export function steadyScript (n, rate, seconds, seed) {
  const rand = rng(seed)
  const ops = []
  for (let s = 0; s < n; s++) {
    const phase = rand() / rate
    for (let i = 0; phase + i / rate < seconds; i++) ops.push({ slot: s, t: phase + i / rate, kind: 'add', key: `s${s}-${i}` })
  }
  ops.sort((a, b) => a.t - b.t)
  return { kind: 'steady', members: n, ops, seconds, cycleSeconds: seconds }
}

/** A list filled by one update of `count` items (memory per loaded list), or no ops (idle). */
export function bulkScript (members, count) {
  const ops = count > 0 ? [{ slot: 0, t: 0, kind: 'bulk', key: 'b', count }] : []
  return { kind: 'bulk', members, ops, seconds: 0, cycleSeconds: 0 }
}

/**
 * Encode every operation of a script as one update frame.
 * @returns the script plus frames[], slotOps[s] (op indices of slot s, in order),
 *   slotEnd[s] (end clock after each of them), names (Map "client:clock" -> item name)
 */
export function encodeScript (script, slotBase) {
  const doc = new Y.Doc()
  const items = doc.getMap('items')
  let update = null
  doc.on('update', (u) => { update = u })
  const frames = []
  const slotOps = Array.from({ length: script.members }, () => [])
  const slotEndArr = Array.from({ length: script.members }, () => [])
  const names = new Map()
  let order = null
  const now = 1764460800000
  script.ops.forEach((op, index) => {
    doc.clientID = slotBase + op.slot
    update = null
    if (op.kind === 'add') {
      order = generateKeyBetween(order, null)
      const i = index % NAMES.length
      const name = `${NAMES[i]} ${op.key}`
      doc.transact(() => {
        items.set(op.key, new Y.Map([
          ['name', name], ['qty', 1 + (index % 5)], ['unit', null], ['note', ''],
          ['category', CATEGORIES[index % CATEGORIES.length]], ['checked', false], ['checked_at', null],
          ['order', order], ['created_at', now + index], ['updated_at', now + index],
          ['created_by', `bench-${op.slot}`]
        ]))
      })
      for (const s of Y.decodeUpdate(update).structs) {
        if (s.parentSub === 'name') names.set(`${s.id.client}:${s.id.clock}`, name)
      }
    } else if (op.kind === 'bulk') {
      doc.transact(() => {
        for (let i = 0; i < op.count; i++) {
          order = generateKeyBetween(order, null)
          items.set(`${op.key}${i}`, new Y.Map([
            ['name', `${NAMES[i % NAMES.length]} ${i}`], ['qty', 1], ['unit', null], ['note', ''],
            ['category', CATEGORIES[i % CATEGORIES.length]], ['checked', false], ['checked_at', null],
            ['order', order], ['created_at', now + i], ['updated_at', now + i], ['created_by', 'bench-0']
          ]))
        }
      })
    } else if (op.kind === 'tick') {
      const item = items.get(op.key)
      doc.transact(() => {
        item.set('checked', true)
        item.set('checked_at', now + index)
        item.set('updated_at', now + index)
      })
    } else {
      throw new Error(`unknown op ${op.kind}`)
    }
    const { ranges } = updateRanges(update)
    if (ranges.length !== 3 || ranges[0] !== slotBase + op.slot) throw new Error('an op must touch its own client only')
    frames.push(syncFrame(UPDATE, update))
    slotOps[op.slot].push(index)
    slotEndArr[op.slot].push(ranges[2])
  })
  const slotEnd = slotEndArr.map((a) => Int32Array.from(a))
  const expected = new Map() // key -> { name, checked } after all ops
  doc.getMap('items').forEach((v, k) => expected.set(k, { name: v.get('name'), checked: v.get('checked') }))
  doc.destroy()
  return { ...script, slotBase, frames, slotOps: slotOps.map((a) => Int32Array.from(a)), slotEnd, names }
}

/** What a list holds after its first `done` operations: key -> {name, checked}. */
export function expectedState (encoded, done) {
  const out = new Map()
  for (let i = 0; i < done; i++) {
    const op = encoded.ops[i]
    if (op.kind === 'add') out.set(op.key, { name: `${NAMES[i % NAMES.length]} ${op.key}`, checked: false })
    else if (op.kind === 'bulk') for (let j = 0; j < op.count; j++) out.set(`${op.key}${j}`, { name: `${NAMES[j % NAMES.length]} ${j}`, checked: false })
    else if (op.kind === 'tick') out.get(op.key).checked = true
  }
  return out
}
