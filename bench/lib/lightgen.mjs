// The light load generator: one process, many raw y-websocket connections (forked by
// capacity.mjs / soak.mjs / growth.mjs and driven over IPC).
//
// Writers send pre-encoded update frames (lib/scripts.mjs: made once with yjs). Receivers do
// not build documents: they walk each update's struct headers (lib/wire.mjs updateRanges) to
// learn which operations it carries, count and time them, and decode one update frame in
// `sampleEvery` with yjs to check its content. At the end a fresh yjs document per list syncs
// from the server and is compared with what the script says the list must hold.
//
// All members of one list live in one process, so a delivery's latency is the receiver's
// monotonic clock minus the sender's, read in the same process.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { monoMs } from './clock.mjs'
import { bulkScript, expectedState, encodeScript, householdScript, steadyScript } from './scripts.mjs'
import { Samples } from './stats.mjs'
import {
  awarenessFrame, EMPTY_STEP2, encodeStateVector, hocuspocusAuth, hocuspocusPrefix, MSG_AWARENESS,
  MSG_SYNC, MSG_SYNC_REPLY, Reader, STEP1, STEP2, syncFrame, UPDATE, updateRanges
} from './wire.mjs'

let cfg = null // init message
const templates = new Map() // name -> encoded script
const households = [] // { listId, token, tpl, members: Conn[], sentAt, opStep, next, start, ... }
const steps = new Map() // step id -> { sent, expected, delivered, latencies }
let currentStep = 0
let running = false
const totals = { framesIn: 0, bytesIn: 0, updateFrames: 0, awarenessIn: 0, framesOut: 0, bytesOut: 0, sampled: 0, sampleBad: 0, resync: 0, parseErrors: 0, closes: 0, reconnects: 0, exhausted: 0 }
const closeCodes = {}
const sampleErrors = []

const send = (msg) => process.send(msg)
// how late this process's own event loop runs: a generator that lags adds its lag to every
// latency it measures (reported per step, next to the fan-out)
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
const DEBUG = Boolean(process.env.LIGHTGEN_DEBUG)
const debugT0 = monoMs()
const KEEPALIVE = syncFrame(UPDATE, Buffer.from([0, 0]))

function stepStats (id) {
  let s = steps.get(id)
  if (!s) { s = { sent: 0, expected: 0, delivered: 0, latencies: new Samples(1 << 12) }; steps.set(id, s) }
  return s
}

// -- a tiny timer heap: one setTimeout for every scheduled event of the process -------------

const heap = []
let timer = null
let timerAt = Infinity

function push (at, fn) {
  heap.push({ at, fn })
  let i = heap.length - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (heap[p].at <= heap[i].at) break
    ;[heap[p], heap[i]] = [heap[i], heap[p]]
    i = p
  }
  arm()
}

function pop () {
  const top = heap[0]
  const last = heap.pop()
  if (heap.length) {
    heap[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && heap[l].at < heap[m].at) m = l
      if (r < heap.length && heap[r].at < heap[m].at) m = r
      if (m === i) break
      ;[heap[m], heap[i]] = [heap[i], heap[m]]
      i = m
    }
  }
  return top
}

function arm () {
  if (!heap.length) return
  const at = heap[0].at
  if (timer && at >= timerAt) return
  if (timer) clearTimeout(timer)
  timerAt = at
  timer = setTimeout(fire, Math.max(0, at - monoMs()))
}

function fire () {
  timer = null
  timerAt = Infinity
  const now = monoMs()
  let n = 0
  while (heap.length && heap[0].at <= now && n++ < 5000) pop().fn(now)
  arm()
}

// -- connections ------------------------------------------------------------------------------

class Conn {
  constructor (hh, slot) {
    this.hh = hh
    this.slot = slot
    this.client = hh.tpl.slotBase + slot
    this.seen = new Int32Array(hh.tpl.members) // ops of each slot this replica holds
    this.others = new Map() // clocks of clients outside the script (the server's own)
    this.ws = null
    this.synced = false
    this.online = false
    this.awClock = 0
    this.pending = [] // ops due while offline (sent after the resync)
    this.prefix = cfg.server === 'hocuspocus' ? hocuspocusPrefix(hh.listId) : null
    this.syncWaiters = []
    this.closedByUs = false
  }

  url () {
    const base = `${cfg.url}/${this.hh.listId}`
    return this.hh.token ? `${base}?token=${encodeURIComponent(this.hh.token)}` : base
  }

  send (frame) {
    if (!this.ws || this.ws.readyState !== 1) return false
    const out = this.prefix ? Buffer.concat([this.prefix, frame]) : frame
    this.ws.send(out)
    totals.framesOut++
    totals.bytesOut += out.length
    return true
  }

  stateVector () {
    const clocks = new Map(this.others)
    const tpl = this.hh.tpl
    for (let s = 0; s < tpl.members; s++) if (this.seen[s] > 0) clocks.set(tpl.slotBase + s, tpl.slotEnd[s][this.seen[s] - 1])
    return encodeStateVector(clocks)
  }

  open () {
    return new Promise((resolve) => {
      this.synced = false
      this.syncWaiters.push(resolve)
      let keepalive = null
      const ws = new WebSocket(this.url(), { perMessageDeflate: false, maxPayload: 256 << 20, handshakeTimeout: 30000 })
      ws.binaryType = 'nodebuffer'
      this.ws = ws
      ws.on('open', () => {
        this.online = true
        if (this.prefix) {
          ws.send(hocuspocusAuth(this.prefix))
          // Hocuspocus closes a socket that sent nothing for 60 s: an empty update keeps it open
          keepalive = setInterval(() => { if (this.ws === ws) this.send(KEEPALIVE) }, 30000)
        }
        this.send(syncFrame(STEP1, this.stateVector()))
      })
      ws.on('message', (data) => { if (this.ws === ws) this.receive(data) })
      ws.on('error', () => {})
      ws.on('close', (code) => {
        clearInterval(keepalive)
        if (this.ws !== ws) return // an earlier session of this member, closed by us
        this.ws = null
        this.online = false
        this.synced = false
        if (!this.closedByUs) { totals.closes++; closeCodes[code] = (closeCodes[code] ?? 0) + 1 }
        for (const w of this.syncWaiters.splice(0)) w(false)
      })
    })
  }

  close () {
    this.closedByUs = true
    if (this.ws) this.ws.terminate()
  }

  receive (data) {
    totals.framesIn++
    totals.bytesIn += data.length
    const r = new Reader(data)
    try {
      if (this.prefix) r.skipBytes()
      const type = r.uint()
      if (type === MSG_SYNC || type === MSG_SYNC_REPLY) {
        const sub = r.uint()
        const payload = r.bytes()
        if (sub === STEP1) {
          this.send(EMPTY_STEP2)
        } else if (sub === STEP2) {
          this.apply(payload, false)
          if (!this.synced) {
            this.synced = true
            for (const w of this.syncWaiters.splice(0)) w(true)
            this.afterSync()
          }
        } else if (sub === UPDATE) {
          totals.updateFrames++
          this.apply(payload, true)
          if (cfg.sampleEvery > 0 && totals.updateFrames % cfg.sampleEvery === 0) sampleCheck(payload, this.hh.tpl)
        }
      } else if (type === MSG_AWARENESS) {
        totals.awarenessIn++
      }
    } catch (err) {
      totals.parseErrors++
      if (sampleErrors.length < 5) sampleErrors.push(`parse: ${err.message}`)
    }
  }

  /** Advance this replica over the ranges an update carries; live updates are deliveries. */
  apply (update, live) {
    const { ranges } = updateRanges(update)
    const hh = this.hh
    const tpl = hh.tpl
    const now = monoMs()
    for (let i = 0; i < ranges.length; i += 3) {
      const client = ranges[i]
      const end = ranges[i + 2]
      const slot = client - tpl.slotBase
      if (slot < 0 || slot >= tpl.members) {
        if ((this.others.get(client) ?? 0) < end) this.others.set(client, end)
        continue
      }
      const ends = tpl.slotEnd[slot]
      const ops = tpl.slotOps[slot]
      let k = this.seen[slot]
      while (k < ends.length && ends[k] <= end) {
        const op = ops[k]
        const at = hh.sentAt[op]
        if (live && at > 0) {
          const st = stepStats(hh.opStep[op])
          st.delivered++
          st.latencies.push(now - at)
          if (DEBUG && now - at > 300) console.error(`slow delivery: ${(now - at).toFixed(0)} ms, sent ${(at - debugT0).toFixed(0)} ms after start, list ${hh.listId.slice(0, 8)}, op ${op}`)
        } else {
          totals.resync++
        }
        k++
      }
      this.seen[slot] = k
    }
  }

  afterSync () {
    // ops that fell due while this member was offline go out now, in order
    const pending = this.pending.splice(0)
    for (const op of pending) sendOp(this.hh, op, this)
    if (cfg.presence) this.presence(null)
  }

  presence (editing) {
    this.awClock++
    const state = JSON.stringify({ user: { name: `bench-${this.slot}`, color: '#3366ff' }, editing })
    this.send(awarenessFrame([[this.client, this.awClock, state]]))
  }
}

function sampleCheck (update, tpl) {
  totals.sampled++
  try {
    for (const s of Y.decodeUpdate(update).structs) {
      if (s.parentSub !== 'name' || !s.content?.arr) continue
      const want = tpl.names.get(`${s.id.client}:${s.id.clock}`)
      if (want !== undefined && want !== s.content.arr[0]) {
        totals.sampleBad++
        if (sampleErrors.length < 5) sampleErrors.push(`sample: ${s.content.arr[0]} != ${want}`)
      }
    }
  } catch (err) {
    totals.sampleBad++
    if (sampleErrors.length < 5) sampleErrors.push(`sample decode: ${err.message}`)
  }
}

// -- households -------------------------------------------------------------------------------

function sendOp (hh, op, conn) {
  const tpl = hh.tpl
  if (!conn.synced) { conn.pending.push(op); return }
  if (cfg.presence) conn.presence(tpl.ops[op].key)
  if (!conn.send(tpl.frames[op])) { conn.pending.push(op); return }
  const now = monoMs()
  hh.sentAt[op] = now
  hh.opStep[op] = currentStep
  hh.sentCount++
  const slot = tpl.ops[op].slot
  // the sender holds its own op (and every earlier one of its slot)
  const k = tpl.slotOps[slot].indexOf(op, conn.seen[slot])
  if (k >= 0 && conn.seen[slot] <= k) conn.seen[slot] = k + 1
  const st = stepStats(currentStep)
  st.sent++
  for (const m of hh.members) if (m !== conn && m.synced) st.expected++
}

function scheduleNext (hh) {
  if (!running || hh.stopped) return
  const tpl = hh.tpl
  if (hh.next >= tpl.ops.length) { totals.exhausted++; return }
  const at = hh.start + (tpl.ops[hh.next].t * 1000) / cfg.speed
  push(at, () => {
    if (!running || hh.stopped) return
    const op = hh.next++
    sendOp(hh, op, hh.members[tpl.ops[op].slot])
    scheduleNext(hh)
  })
}

function scheduleRenew (hh) {
  // awareness renewal (the stock client re-sends its state every 15 s), one member at a time
  if (!cfg.presence || !running || hh.stopped) return
  const every = (cfg.renewSeconds * 1000) / cfg.speed / hh.members.length
  push(monoMs() + every * (0.5 + Math.random()), () => {
    if (!running || hh.stopped) return
    const m = hh.members[hh.renewIndex++ % hh.members.length]
    if (m.synced) m.presence(null)
    scheduleRenew(hh)
  })
}

function scheduleChurn (conn) {
  const c = cfg.churn
  if (!c || !running) return
  const session = (c.minOnline + Math.random() * (c.maxOnline - c.minOnline)) * 1000
  push(monoMs() + session, () => {
    if (!running || conn.hh.stopped) return
    conn.closedByUs = true
    conn.synced = false // from now on its ops wait for the next session
    conn.ws?.close(1000)
    const gap = (c.minOffline + Math.random() * (c.maxOffline - c.minOffline)) * 1000
    push(monoMs() + gap, async () => {
      if (!running || conn.hh.stopped) return
      conn.closedByUs = false
      totals.reconnects++
      await conn.open()
      scheduleChurn(conn)
    })
  })
}

function template (name) {
  let tpl = templates.get(name)
  if (tpl) return tpl
  const [kind, n] = name.split(':')
  const members = Number(n)
  const seed = cfg.seed + members * 7919 + (kind === 'steady' ? 1 : 0)
  const script = kind === 'steady'
    ? steadyScript(members, cfg.rate, cfg.scriptSeconds, seed)
    : kind === 'bulk'
      ? bulkScript(members, Number(name.split(':')[2] ?? 0))
      : householdScript(members, Math.max(1, Math.ceil(cfg.scriptSeconds / 160)), seed)
  tpl = encodeScript(script, cfg.slotBase)
  templates.set(name, tpl)
  return tpl
}

async function addHouseholds ({ households: specs, concurrency, deadlineMs, startSpread }) {
  const created = []
  for (const spec of specs) {
    const tpl = template(spec.template)
    const hh = {
      listId: spec.listId, token: spec.token, tpl, members: [], sentAt: new Float64Array(tpl.ops.length),
      opStep: new Int16Array(tpl.ops.length), next: 0, sentCount: 0, start: 0, stopped: false, renewIndex: 0
    }
    for (let s = 0; s < tpl.members; s++) hh.members.push(new Conn(hh, s))
    households.push(hh)
    created.push(hh)
  }
  const conns = created.flatMap((hh) => hh.members)
  const deadline = monoMs() + deadlineMs
  const syncMs = []
  let next = 0
  const worker = async () => {
    while (next < conns.length && monoMs() < deadline) {
      const c = conns[next++]
      const t0 = monoMs()
      const ok = await Promise.race([c.open(), new Promise((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - monoMs())))])
      if (ok) syncMs.push(monoMs() - t0)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker))
  const failed = conns.filter((c) => !c.synced).length
  if (running) for (const hh of created) startHousehold(hh, startSpread)
  return { connections: conns.length, failed, syncMs: Float64Array.from(syncMs) }
}

function startHousehold (hh, spreadSeconds) {
  hh.start = monoMs() + Math.random() * spreadSeconds * 1000
  scheduleNext(hh)
  scheduleRenew(hh)
  for (const m of hh.members) scheduleChurn(m)
}

async function waitDelivered (deadlineMs) {
  // every synced replica holds every op its household sent (bounded wait)
  const deadline = monoMs() + deadlineMs
  const behind = () => {
    let n = 0
    for (const hh of households) {
      for (const m of hh.members) {
        if (!m.synced) continue
        for (let s = 0; s < hh.tpl.members; s++) {
          const want = countSent(hh, s)
          if (m.seen[s] < want) n++
        }
      }
    }
    return n
  }
  let b = behind()
  while (b > 0 && monoMs() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    b = behind()
  }
  return b
}

function countSent (hh, slot) {
  const ops = hh.tpl.slotOps[slot]
  let n = 0
  while (n < ops.length && hh.sentAt[ops[n]] > 0) n++
  return n
}

/** After the load: bring every member online, flush what is pending, then compare. */
async function verify ({ deadlineMs }) {
  running = false
  if (timer) clearTimeout(timer)
  heap.length = 0
  const deadline = monoMs() + deadlineMs
  // members that churned offline come back (with their pending ops)
  await Promise.all(households.flatMap((hh) => hh.members.filter((m) => !m.synced).map(async (m) => {
    m.closedByUs = false
    await Promise.race([m.open(), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - monoMs())))])
  })))
  const replicasBehind = await waitDelivered(Math.max(0, deadline - monoMs()))
  let lists = 0
  let listsOk = 0
  let lostItems = 0
  let wrongItems = 0
  let extraItems = 0
  let unsynced = 0
  const problems = []
  let next = 0
  const worker = async () => {
    while (next < households.length) {
      const hh = households[next++]
      lists++
      const done = hh.sentCount
      // sent ops are a prefix of the script unless a member was offline with pending ops
      const sentOps = []
      for (let i = 0; i < hh.tpl.ops.length; i++) if (hh.sentAt[i] > 0) sentOps.push(i)
      const want = expectedFor(hh.tpl, sentOps)
      const doc = await fetchDoc(hh, Math.max(1000, deadline - monoMs()))
      if (!doc) { unsynced++; problems.push(`${hh.listId}: verifier did not sync`); continue }
      const items = doc.getMap('items')
      let lost = 0
      let wrong = 0
      for (const [key, w] of want) {
        const item = items.get(key)
        if (!item) { lost++; continue }
        if (item.get('name') !== w.name || item.get('checked') !== w.checked) wrong++
      }
      let extra = 0
      items.forEach((_, key) => { if (!want.has(key)) extra++ })
      lostItems += lost
      wrongItems += wrong
      extraItems += extra
      if (lost === 0 && wrong === 0 && extra === 0) listsOk++
      else if (problems.length < 5) problems.push(`${hh.listId}: ${done} ops sent, lost ${lost}, wrong ${wrong}, extra ${extra}`)
      doc.destroy()
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return { lists, listsOk, lostItems, wrongItems, extraItems, unsynced, replicasBehind, problems }
}

function expectedFor (tpl, sentOps) {
  if (sentOps.every((op, i) => op === i)) return expectedState(tpl, sentOps.length)
  // not a prefix (steady scripts with churn: only adds): the adds that went out
  const all = expectedState(tpl, tpl.ops.length)
  const out = new Map()
  for (const op of sentOps) {
    const o = tpl.ops[op]
    if (o.kind === 'add') out.set(o.key, { name: all.get(o.key).name, checked: false })
  }
  for (const op of sentOps) if (tpl.ops[op].kind === 'tick') out.get(tpl.ops[op].key).checked = true
  return out
}

/** A real yjs document synced from the server alone (step 1 with an empty state vector). */
function fetchDoc (hh, timeoutMs) {
  return new Promise((resolve) => {
    const prefix = cfg.server === 'hocuspocus' ? hocuspocusPrefix(hh.listId) : null
    const base = `${cfg.url}/${hh.listId}`
    const ws = new WebSocket(hh.token ? `${base}?token=${encodeURIComponent(hh.token)}` : base, { perMessageDeflate: false, maxPayload: 256 << 20 })
    const timer = setTimeout(() => { ws.terminate(); resolve(null) }, timeoutMs)
    const out = (f) => ws.send(prefix ? Buffer.concat([prefix, f]) : f)
    ws.on('open', () => {
      if (prefix) ws.send(hocuspocusAuth(prefix))
      out(syncFrame(STEP1, Buffer.from([0])))
    })
    ws.on('error', () => {})
    ws.on('message', (data) => {
      const r = new Reader(data)
      if (prefix) r.skipBytes()
      const type = r.uint()
      if (type !== MSG_SYNC && type !== MSG_SYNC_REPLY) return
      if (r.uint() !== STEP2) return
      const doc = new Y.Doc()
      Y.applyUpdate(doc, r.bytes())
      clearTimeout(timer)
      ws.terminate()
      resolve(doc)
    })
  })
}

async function barrier ({ deadlineMs }) {
  const deadline = monoMs() + deadlineMs
  let ok = 0
  let next = 0
  const conns = households.flatMap((hh) => hh.members).filter((m) => m.synced)
  const worker = async () => {
    while (next < conns.length) {
      const m = conns[next++]
      const done = new Promise((resolve) => m.syncWaiters.push(resolve))
      m.synced = false
      m.send(syncFrame(STEP1, m.stateVector()))
      if (await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - monoMs())))])) ok++
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  return { ok, of: conns.length }
}

function report ({ step }) {
  const s = stepStats(step)
  const out = { step, sent: s.sent, expected: s.expected, delivered: s.delivered, latencies: s.latencies.toArray(), loopP99Ms: loopDelay.percentile(99) / 1e6, loopMaxMs: loopDelay.max / 1e6 }
  return out
}

function counters () {
  let connections = 0
  let synced = 0
  for (const hh of households) for (const m of hh.members) { connections++; if (m.synced) synced++ }
  return { ...totals, closeCodes, sampleErrors, connections, synced, households: households.length }
}

process.on('message', async (msg) => {
  try {
    switch (msg.cmd) {
      case 'init':
        cfg = msg
        for (const name of msg.templates ?? []) template(name)
        send({ ev: 'ready', pid: process.pid })
        break
      case 'start': running = true; for (const hh of households) if (!hh.start) startHousehold(hh, msg.startSpread ?? 0); send({ ev: 'started' }); break
      case 'add': send({ ev: 'added', ...(await addHouseholds(msg)) }); break
      case 'step': currentStep = msg.step; loopDelay.reset(); send({ ev: 'stepped' }); break
      case 'report': send({ ev: 'report', ...report(msg), counters: counters() }); break
      case 'barrier': send({ ev: 'barrier', ...(await barrier(msg)) }); break
      case 'counters': send({ ev: 'counters', ...counters() }); break
      case 'verify': send({ ev: 'verified', ...(await verify(msg)), counters: counters() }); break
      case 'close':
        running = false
        for (const hh of households) { hh.stopped = true; for (const m of hh.members) m.close() }
        send({ ev: 'closed' })
        setTimeout(() => process.exit(0), 50)
        break
      default: send({ ev: 'error', error: `unknown command ${msg.cmd}` })
    }
  } catch (err) {
    send({ ev: 'error', error: String(err?.stack ?? err) })
  }
})
