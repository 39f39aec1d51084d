// Hostile clients (issue 9), one forked process driven by soak.mjs. Every attack is one bounded
// loop that stops at `until` (monotonic ms); every request and socket has its own timeout.
// They hold the links a hostile person could: their own lists (owner), a view link of one, and
// an edit link of a few honest lists (a household member gone bad). Listok only: the anchors
// have no tokens, view links or HTTP API.
//
//   step2   a view socket sends non-empty sync step 2 frames (each a new item) on a big list
//   presence  awareness floods: new client ids, large states, on an attacker list and on the
//           honest lists it holds an edit link of
//   bulk    POST /items/bulk of 500 new items, again and again (a new list when one is full)
//   sockets many sockets on one view token, held, plus connect/close churn, plus anonymous
//           list creation
import crypto from 'node:crypto'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { monoMs } from './clock.mjs'
import { awarenessFrame, MSG_AUTH, MSG_SYNC, Reader, STEP1, STEP2, syncFrame, UPDATE } from './wire.mjs'

let cfg = null
const stats = {}
const send = (msg) => process.send(msg)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function stat (name) {
  stats[name] ??= { ok: 0, failed: 0, closes: {}, ms: [], notes: [] }
  return stats[name]
}

async function api (method, path, { token, body, timeoutMs = 120000 } = {}) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const t0 = monoMs()
  try {
    const res = await fetch(`${cfg.http}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(Math.round(timeoutMs)) })
    const text = await res.text()
    return { status: res.status, json: safeJson(text), ms: monoMs() - t0 }
  } catch (err) {
    return { status: 0, error: String(err?.message ?? err), ms: monoMs() - t0 }
  }
}

function safeJson (text) {
  try { return JSON.parse(text) } catch { return null }
}

function socket (listId, token, { onMessage, timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${cfg.ws}/${listId}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false, maxPayload: 256 << 20, handshakeTimeout: timeoutMs })
    ws.binaryType = 'nodebuffer'
    const timer = setTimeout(() => { ws.terminate(); resolve(null) }, timeoutMs)
    ws.on('open', () => { clearTimeout(timer); resolve(ws) })
    ws.on('error', () => { clearTimeout(timer); resolve(null) })
    if (onMessage) ws.on('message', onMessage)
  })
}

function waitStep2 (ws, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { ws.off('message', on); resolve(false) }, timeoutMs)
    const on = (data) => {
      const r = new Reader(data)
      if (r.uint() === MSG_SYNC && r.uint() === STEP2) { clearTimeout(timer); ws.off('message', on); resolve(true) }
    }
    ws.on('message', on)
    ws.send(syncFrame(STEP1, Buffer.from([0])))
  })
}

function itemUpdate (key, fields) {
  const doc = new Y.Doc()
  doc.getMap('items').set(key, new Y.Map(Object.entries(fields)))
  const u = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return u
}

// -- set-up: the attacker's own lists -------------------------------------------------------

const own = {}

async function createList (title) {
  const r = await api('POST', '/api/lists', { body: { title } })
  if (r.status !== 201) throw new Error(`create list: ${r.status} ${r.error ?? JSON.stringify(r.json)}`)
  return { id: r.json.id, token: r.json.token }
}

async function setup () {
  const t0 = monoMs()
  // a big list (the step-2 flood makes the server copy it) and a view link of it
  own.big = await createList('big')
  const ws = await socket(own.big.id, own.big.token)
  if (!ws) throw new Error('hostile: no socket to the big list')
  const chunk = 256 * 1024
  const n = Math.max(1, Math.round((cfg.bigMb * 1024 * 1024) / chunk))
  for (let i = 0; i < n; i++) {
    ws.send(syncFrame(UPDATE, itemUpdate(`big-${i}`, { name: `big ${i}`, note: 'x'.repeat(chunk - 200), checked: false })))
    await sleep(20)
  }
  if (!(await waitStep2(ws, 60000))) throw new Error('hostile: the big list did not answer')
  ws.close()
  const share = await api('POST', `/api/lists/${own.big.id}/shares`, { token: own.big.token, body: { role: 'view' } })
  if (share.status !== 201) throw new Error(`view share: ${share.status}`)
  own.viewToken = share.json.token
  own.presence = await createList('presence')
  own.bulk = await createList('bulk')
  return { seconds: (monoMs() - t0) / 1000, bigMb: cfg.bigMb, bigItems: n }
}

// -- attacks --------------------------------------------------------------------------------

async function step2Flood (until) {
  const st = stat('view-socket step-2 flood')
  let denied = 0
  const pool = Array.from({ length: 200 }, (_, i) => syncFrame(STEP2, itemUpdate(`v-${i}-${crypto.randomUUID().slice(0, 8)}`, { name: `v ${i}` })))
  while (monoMs() < until) {
    const ws = await socket(own.big.id, own.viewToken, {
      onMessage: (data) => { if (new Reader(data).uint() === MSG_AUTH) denied++ }
    })
    if (!ws) { st.failed++; await sleep(200); continue }
    const closed = new Promise((resolve) => ws.on('close', (code) => { st.closes[code] = (st.closes[code] ?? 0) + 1; resolve() }))
    let i = 0
    while (monoMs() < until && ws.readyState === 1) {
      // keep at most ~1 MB queued: the flood is paced by the server, not by our memory
      if (ws.bufferedAmount < (1 << 20)) { ws.send(pool[i++ % pool.length]); st.ok++ }
      await sleep(1000 / cfg.step2Rate)
    }
    ws.terminate()
    await closed
  }
  st.notes.push(`${denied} read-only refusals received`)
}

function presenceEntries (n, size, base) {
  const filler = 'p'.repeat(size)
  return Array.from({ length: n }, (_, i) => [base + i, 1, JSON.stringify({ user: { name: `ghost ${base + i}`, color: '#ff0000' }, pad: filler })])
}

async function presenceFlood (listId, token, until, { entries, bytes, rate }, name) {
  const st = stat(name)
  let nextId = 1 + crypto.randomInt(1 << 30)
  while (monoMs() < until) {
    const ws = await socket(listId, token)
    if (!ws) { st.failed++; await sleep(200); continue }
    const closed = new Promise((resolve) => ws.on('close', (code) => { st.closes[code] = (st.closes[code] ?? 0) + 1; resolve() }))
    while (monoMs() < until && ws.readyState === 1) {
      if (ws.bufferedAmount < (1 << 20)) {
        ws.send(awarenessFrame(presenceEntries(entries, bytes, nextId)))
        nextId += entries
        st.ok++
      }
      await sleep(1000 / rate)
    }
    ws.terminate()
    await closed
  }
}

const randomWord = () => Array.from(crypto.randomBytes(12), (b) => String.fromCharCode(97 + (b % 26))).join('')

async function bulkAdds (until) {
  const st = stat('bulk adds over the API')
  let list = own.bulk
  let batch = 0
  while (monoMs() < until) {
    // one random word each: no digits (read as a quantity), no shared words (duplicates are
    // found up to word order and inflection)
    const items = Array.from({ length: cfg.bulkItems }, () => ({ name: randomWord() }))
    const r = await api('POST', `/api/lists/${list.id}/items/bulk`, { token: list.token, body: { items }, timeoutMs: Math.max(1000, until - monoMs() + 30000) })
    batch++
    st.ms.push(r.ms)
    if (r.status === 201) st.ok++
    else {
      st.failed++
      st.closes[r.status] = (st.closes[r.status] ?? 0) + 1
      if (r.error && st.notes.length < 1) st.notes.push(r.error)
      else if (r.status !== 413 && st.notes.length < 1) st.notes.push(JSON.stringify(r.json).slice(0, 120))
      if (r.status === 413) list = await createList('bulk').catch(() => list)
      else await sleep(100)
    }
  }
}

async function socketFlood (until) {
  const st = stat('socket flood (held sockets on one view token)')
  const held = []
  for (let i = 0; i < cfg.heldSockets && monoMs() < until; i++) {
    const ws = await socket(own.big.id, own.viewToken, { timeoutMs: 10000 })
    if (ws) { held.push(ws); st.ok++; ws.on('close', (code) => { st.closes[code] = (st.closes[code] ?? 0) + 1 }) } else st.failed++
  }
  const churn = stat('socket churn (connect, close)')
  const creates = stat('anonymous list creation')
  const churnLoop = async () => {
    while (monoMs() < until) {
      const ws = await socket(own.big.id, own.viewToken, { timeoutMs: 10000 })
      if (ws) { churn.ok++; ws.terminate() } else churn.failed++
      await sleep(1000 / cfg.churnPerSec)
    }
  }
  const createLoop = async () => {
    while (monoMs() < until) {
      const r = await api('POST', '/api/lists', { body: { title: 'spam' }, timeoutMs: 10000 })
      if (r.status === 201) creates.ok++
      else { creates.failed++; creates.closes[r.status] = (creates.closes[r.status] ?? 0) + 1 }
      await sleep(1000 / cfg.createsPerSec)
    }
  }
  await Promise.all([churnLoop(), createLoop()])
  for (const ws of held) ws.terminate()
}

async function run ({ seconds, victims }) {
  const until = monoMs() + seconds * 1000
  const attacks = []
  const on = new Set(cfg.attacks)
  if (on.has('step2')) attacks.push(step2Flood(until))
  if (on.has('presence')) {
    attacks.push(presenceFlood(own.presence.id, own.presence.token, until, { entries: 20, bytes: 1000, rate: 20 }, 'presence flood (own list)'))
    for (const v of victims) attacks.push(presenceFlood(v.listId, v.token, until, { entries: 5, bytes: 500, rate: 5 }, 'presence flood (honest lists, edit link)'))
  }
  if (on.has('bulk')) attacks.push(bulkAdds(until))
  if (on.has('sockets')) attacks.push(socketFlood(until))
  await Promise.all(attacks)
  const out = {}
  for (const [name, s] of Object.entries(stats)) {
    const ms = s.ms.slice().sort((a, b) => a - b)
    out[name] = { ok: s.ok, failed: s.failed, closes: s.closes, notes: s.notes, p50ms: ms.length ? ms[Math.floor(ms.length / 2)] : null, maxMs: ms.length ? ms[ms.length - 1] : null }
  }
  return out
}

process.on('message', async (msg) => {
  try {
    switch (msg.cmd) {
      case 'init': cfg = msg; send({ ev: 'ready' }); break
      case 'setup': send({ ev: 'setup', ...(await setup()) }); break
      case 'run': send({ ev: 'done', attacks: await run(msg) }); break
      case 'close': send({ ev: 'closed' }); setTimeout(() => process.exit(0), 50); break
      default: send({ ev: 'error', error: `unknown command ${msg.cmd}` })
    }
  } catch (err) {
    send({ ev: 'error', error: String(err?.stack ?? err) })
  }
})
