// A load-generator process (forked by run.mjs). Its clients are stock yjs 13.6 documents synced by
// the stock y-websocket WebsocketProvider (BroadcastChannel disabled, so clients in one process
// can only sync through the server). The parent drives it through IPC commands:
//   connect -> write -> drain -> report -> verify -> close
import crypto from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { generateKeyBetween } from 'fractional-indexing'
import { hocuspocusPolyfill } from './hocuspocus-shim.mjs'
import { monoMs } from './clock.mjs'
import { Samples } from './stats.mjs'

const STAMP_PREFIX = 'bench:'
const CATEGORIES = ['produce', 'dairy', 'bakery', 'pantry', 'drinks', 'household']
const NAMES = ['milk', 'bread', 'apples', 'coffee', 'rice', 'soap', 'eggs', 'tea']

const clients = []
const latencies = new Samples(1 << 15)
const frames = { received: 0, updates: 0, bytes: 0 }
let deliveries = 0
let firstDeliveryAt = Infinity
let lastDeliveryAt = 0
let disconnects = 0
let cpuAtWriteStart = null
let wallAtWriteStart = 0

const send = (msg) => process.send(msg)
// every provider adds a process 'exit' listener (to clear its presence); hundreds are expected here
process.setMaxListeners(0)
// how late this process's event loop runs: when it is as large as the fan-out latency, the
// clients, not the server, are the bottleneck
const loopDelay = monitorEventLoopDelay({ resolution: 5 })

function socketClass (server, listId) {
  const Base = server === 'hocuspocus' ? hocuspocusPolyfill(listId) : WebSocket
  // counts wire frames (all of them, acks included) and, as y-websocket sees them, the frames
  // that carry document updates (sync message type 0, sub-type 2 = update)
  return class CountingSocket extends Base {
    constructor (url, protocols) {
      super(url, protocols)
      this.on('message', (data) => { frames.received++; frames.bytes += data.length ?? data.byteLength ?? 0 })
    }

    set onmessage (fn) {
      super.onmessage = fn && ((event) => {
        const b = new Uint8Array(event.data, 0, 2)
        if (b[0] === 0 && b[1] === 2) frames.updates++
        fn(event)
      })
    }

    get onmessage () { return super.onmessage }
  }
}

function randomId () {
  return crypto.randomBytes(12).toString('base64url') // 16 url-safe chars
}

function makeClient ({ listId, token, index, writer }, { url, server, presence }) {
  const doc = new Y.Doc()
  const items = doc.getMap('items')
  const client = { listId, index, writer, doc, items, provider: null, syncMs: NaN, writes: 0, order: null }
  items.observe((event) => {
    if (event.transaction.local) return
    const now = monoMs()
    for (const [key, change] of event.changes.keys) {
      if (change.action !== 'add') continue
      const note = items.get(key)?.get?.('note')
      if (typeof note !== 'string' || !note.startsWith(STAMP_PREFIX)) continue
      latencies.push(now - Number(note.slice(STAMP_PREFIX.length)))
      deliveries++
      if (now < firstDeliveryAt) firstDeliveryAt = now
      if (now > lastDeliveryAt) lastDeliveryAt = now
    }
  })
  const provider = new WebsocketProvider(url, listId, doc, {
    connect: false,
    disableBc: true,
    params: token ? { token } : {},
    WebSocketPolyfill: socketClass(server, listId),
    maxBackoffTime: 1000
  })
  if (presence) {
    provider.awareness.setLocalState({ user: { name: `bench-${index}`, color: '#3366ff' }, editing: null })
  } else {
    provider.awareness.setLocalState(null)
  }
  provider.on('connection-close', () => { if (client.synced) disconnects++ })
  client.provider = provider
  return client
}

function connectOne (client) {
  return new Promise((resolve) => {
    const t0 = monoMs()
    const onSync = (synced) => {
      if (!synced) return
      client.provider.off('sync', onSync)
      client.syncMs = monoMs() - t0
      client.synced = true
      resolve()
    }
    client.provider.on('sync', onSync)
    client.provider.connect()
  })
}

async function connectAll ({ clients: specs, url, server, presence, concurrency, deadlineMs }) {
  for (const spec of specs) clients.push(makeClient(spec, { url, server, presence }))
  const deadline = monoMs() + deadlineMs
  let next = 0
  const worker = async () => {
    while (next < clients.length && monoMs() < deadline) {
      const c = clients[next++]
      await Promise.race([connectOne(c), sleepUntil(deadline)])
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, worker))
  const failed = clients.filter((c) => !c.synced).length
  return { syncMs: Float64Array.from(clients.filter((c) => c.synced).map((c) => c.syncMs)), failed }
}

function sleepUntil (monoDeadline) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, monoDeadline - monoMs())))
}

function writeItem (client) {
  const stamp = monoMs()
  const now = Date.now()
  const seq = client.writes++
  client.order = generateKeyBetween(client.order, null)
  const item = new Y.Map([
    ['name', `${NAMES[seq % NAMES.length]} ${client.index}.${seq}`],
    ['qty', 1 + (seq % 5)],
    ['unit', null],
    ['note', STAMP_PREFIX + stamp.toFixed(3)],
    ['category', CATEGORIES[seq % CATEGORIES.length]],
    ['checked', false],
    ['checked_at', null],
    ['order', client.order],
    ['created_at', now],
    ['updated_at', now],
    ['created_by', `bench-${client.index}`]
  ])
  client.items.set(randomId(), item)
}

async function writePhase ({ startAt, seconds, rate, presence }) {
  const writers = clients.filter((c) => c.writer && c.synced)
  const period = 1000 / rate
  const perWriter = Math.round(seconds * rate)
  const endAt = startAt + seconds * 1000
  for (const w of writers) { w.nextAt = startAt + Math.random() * period; w.nextPresenceAt = w.nextAt + Math.random() * 1000 }
  await sleepUntil(startAt)
  cpuAtWriteStart = process.cpuUsage()
  wallAtWriteStart = monoMs()
  loopDelay.reset()
  loopDelay.enable()
  // bounded: stop when every writer made its writes, or 5 s after the window if the loop lags
  while (monoMs() < endAt + 5000) {
    const now = monoMs()
    let soonest = Infinity
    let pending = false
    for (const w of writers) {
      while (w.writes < perWriter && w.nextAt <= now) {
        writeItem(w)
        w.nextAt += period
      }
      if (presence && w.nextPresenceAt <= now && now < endAt) {
        w.provider.awareness.setLocalStateField('editing', `item-${w.writes}`)
        w.nextPresenceAt += 1000
      }
      if (w.writes < perWriter) { pending = true; soonest = Math.min(soonest, w.nextAt) }
    }
    if (!pending) break
    await sleepUntil(Math.min(soonest, now + 50))
  }
  const writes = {}
  for (const w of writers) writes[w.listId] = (writes[w.listId] ?? 0) + w.writes
  return { writes }
}

async function drain ({ expected, deadlineMs }) {
  const deadline = monoMs() + deadlineMs
  const incomplete = () => clients.filter((c) => c.synced && c.items.size < (expected[c.listId] ?? 0))
  while (incomplete().length > 0 && monoMs() < deadline) {
    await sleepUntil(Math.min(deadline, monoMs() + 20))
  }
  return { incomplete: incomplete().length }
}

function digest (doc) {
  const items = doc.getMap('items').toJSON()
  const keys = Object.keys(items).sort()
  const h = crypto.createHash('sha1')
  for (const k of keys) h.update(k + JSON.stringify(Object.entries(items[k]).sort(([a], [b]) => (a < b ? -1 : 1))))
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(doc)).entries()].sort((a, b) => a[0] - b[0])
  h.update(JSON.stringify(sv))
  return { hash: h.digest('hex'), size: keys.length }
}

function report () {
  loopDelay.disable()
  const cpu = cpuAtWriteStart ? process.cpuUsage(cpuAtWriteStart) : null
  const wall = wallAtWriteStart ? monoMs() - wallAtWriteStart : 0
  const replicas = clients.filter((c) => c.synced).map((c) => ({ listId: c.listId, ...digest(c.doc) }))
  return {
    latencies: latencies.toArray(),
    deliveries,
    firstDeliveryAt,
    lastDeliveryAt,
    frames,
    disconnects,
    replicas,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    cpuPercent: cpu && wall > 0 ? (100 * (cpu.user + cpu.system) / 1000) / wall : NaN
  }
}

// A late joiner per list: a fresh client that syncs from the server alone proves the server holds
// every update (for Listok after the run, not just the clients between themselves).
async function verify ({ lists, url, server, deadlineMs }) {
  const out = []
  for (const { listId, token } of lists) {
    const c = makeClient({ listId, token, index: -1, writer: false }, { url, server, presence: false })
    const deadline = monoMs() + deadlineMs
    await Promise.race([connectOne(c), sleepUntil(deadline)])
    out.push({ listId, synced: !!c.synced, ...digest(c.doc) })
    c.provider.destroy()
    c.doc.destroy()
  }
  return out
}

function closeAll () {
  for (const c of clients) {
    c.provider.destroy()
    c.doc.destroy()
  }
}

process.on('message', async (msg) => {
  try {
    switch (msg.cmd) {
      case 'connect': send({ ev: 'connected', ...(await connectAll(msg)) }); break
      case 'write': send({ ev: 'written', ...(await writePhase(msg)) }); break
      case 'drain': send({ ev: 'drained', ...(await drain(msg)) }); break
      case 'report': send({ ev: 'report', ...report() }); break
      case 'verify': send({ ev: 'verified', lists: await verify(msg) }); break
      case 'close':
        closeAll()
        send({ ev: 'closed' })
        setTimeout(() => process.exit(0), 50)
        break
      default: send({ ev: 'error', error: `unknown command ${msg.cmd}` })
    }
  } catch (err) {
    send({ ev: 'error', error: String(err?.stack ?? err) })
  }
})
