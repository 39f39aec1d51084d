#!/usr/bin/env node
// Opening a list whose history holds 10,000 updates: time to the first sync reply.
//
//   node bench/history.mjs [--updates 10000] [--servers listok,y-websocket-server,hocuspocus]
//                          [--opens 5] [--restarts 3]
//
// The history is made through the server by one stock y-websocket client (1 update per
// transaction: items added, then checked, renamed, re-quantified), until a second client holds
// the same state. Then a raw WebSocket sends sync step 1 with an empty state vector and times the
// step 2 reply, from the socket's creation and from its open. Listok is restarted on the same
// data dir before each cold open, so the list is loaded from SQLite (snapshot + update tail);
// the in-memory anchors can only be measured warm (document already in memory).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'
import { monoMs } from './lib/clock.mjs'
import { hocuspocusPolyfill } from './lib/hocuspocus-shim.mjs'
import { createLists, DEFAULT_SERVERS, listokAvailable, readProc, SERVERS, startServer } from './lib/servers.mjs'
import { median } from './lib/stats.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const { values: opts } = parseArgs({
  options: {
    updates: { type: 'string', default: '10000' },
    servers: { type: 'string' },
    opens: { type: 'string', default: '5' },
    restarts: { type: 'string', default: '5' },
    out: { type: 'string' }
  }
})
const UPDATES = Number(opts.updates)
let servers = opts.servers?.split(',') ?? DEFAULT_SERVERS
if (!opts.servers && !listokAvailable()) servers = servers.filter((s) => SERVERS[s].kind !== 'listok')
const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const logDir = path.join(BENCH_DIR, 'results', 'logs', `history-${stamp}`)
fs.mkdirSync(logDir, { recursive: true })

const canonical = (v) => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  : x))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const socketClass = (server, listId) => (server.kind === 'hocuspocus' ? hocuspocusPolyfill(listId) : WebSocket)

function provider (server, listId, token, doc) {
  const p = new WebsocketProvider(server.wsUrl, listId, doc, {
    params: token ? { token } : {},
    disableBc: true, WebSocketPolyfill: socketClass(server, listId), connect: false
  })
  p.awareness.setLocalState(null)
  return p
}

async function waitFor (cond, ms, what) {
  const deadline = monoMs() + ms
  while (!cond()) {
    if (monoMs() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Make `n` updates through the server; returns the number of items and the writer's digest. */
async function makeHistory (server, listId, token, n) {
  const doc = new Y.Doc()
  const p = provider(server, listId, token, doc)
  p.connect()
  await waitFor(() => p.synced, 20000, 'writer sync')
  const items = doc.getMap('items')
  const itemCount = Math.min(1000, Math.ceil(n / 10))
  const ids = []
  const t0 = monoMs()
  for (let i = 0; i < n; i++) {
    if (i < itemCount) {
      const id = `hist${String(i).padStart(12, '0')}`
      ids.push(id)
      items.set(id, new Y.Map([['name', `item ${i}`], ['qty', 1], ['unit', null], ['note', ''],
        ['category', 'pantry'], ['checked', false], ['checked_at', null], ['order', `a${i}`],
        ['created_at', Date.now()], ['updated_at', Date.now()], ['created_by', 'bench']]))
    } else {
      const item = items.get(ids[i % itemCount])
      switch (i % 3) {
        case 0: doc.transact(() => { item.set('checked', !item.get('checked')); item.set('checked_at', Date.now()) }); break
        case 1: item.set('qty', i % 7); break
        default: item.set('name', `item ${i % itemCount} v${i}`)
      }
    }
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve))
  }
  // a second client that holds the writer's whole state proves the server has (and, for
  // Listok, has committed) every update
  const doc2 = new Y.Doc()
  const p2 = provider(server, listId, token, doc2)
  p2.connect()
  const want = Buffer.from(Y.encodeStateVector(doc)).toString('hex')
  await waitFor(() => Buffer.from(Y.encodeStateVector(doc2)).toString('hex') === want, 180000, 'history to reach a second client')
  const writeSeconds = (monoMs() - t0) / 1000
  const json = canonical(items.toJSON())
  p.destroy()
  // p2 stays connected through the warm opens: Hocuspocus drops an in-memory document when its
  // last connection leaves
  return { itemCount, writeSeconds, json, updateBytes: Y.encodeStateAsUpdate(doc).length, holder: p2 }
}

/** Raw socket: sync step 1 (empty state vector) -> ms until the step 2 reply, and its content. */
function firstSyncReply (server, listId, token) {
  return new Promise((resolve, reject) => {
    const Sock = socketClass(server, listId)
    const t0 = monoMs()
    let tOpen = NaN
    const ws = new Sock(`${server.wsUrl}/${listId}` + (token ? `?token=${token}` : ''))
    ws.binaryType = 'arraybuffer'
    const timer = setTimeout(() => { ws.close(); reject(new Error('no sync reply in 30 s')) }, 30000)
    ws.onopen = () => {
      tOpen = monoMs()
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, 0) // sync
      encoding.writeVarUint(e, 0) // step 1
      encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()))
      ws.send(encoding.toUint8Array(e))
    }
    ws.onmessage = (event) => {
      const d = decoding.createDecoder(new Uint8Array(event.data))
      if (decoding.readVarUint(d) !== 0 || decoding.readVarUint(d) !== 1) return // not step 2
      const t = monoMs()
      const update = decoding.readVarUint8Array(d)
      clearTimeout(timer)
      ws.close()
      const doc = new Y.Doc()
      Y.applyUpdate(doc, update)
      resolve({ fromCreateMs: t - t0, fromOpenMs: t - tOpen, json: canonical(doc.getMap('items').toJSON()), bytes: update.length })
    }
    ws.onerror = (err) => { clearTimeout(timer); reject(err.error ?? err) }
  })
}

const rows = []
for (const name of servers) {
  const logFile = (tag) => path.join(logDir, `${name}-${tag}.log`)
  // The history is written as fast as one client can send it: Listok's per-connection rate limit
  // (500 messages/s) is lifted for that phase only; the opens run on default settings.
  let server = await startServer(name, { logFile: logFile('write'), extraEnv: { LISTOK_RATE_LIMIT: '0' } })
  const listId = crypto.randomUUID()
  const warmupId = crypto.randomUUID() // an empty list, opened first to warm a fresh process
  const dataDir = server.dataDir
  try {
    const tokens = await createLists(server, [listId, warmupId])
    const token = tokens.get(listId)
    process.stderr.write(`[history] ${name}: writing ${UPDATES} updates ... `)
    const h = await makeHistory(server, listId, token, UPDATES)
    process.stderr.write(`${h.writeSeconds.toFixed(1)} s\n`)
    const warm = []
    let ok = true
    for (let i = 0; i < Number(opts.opens); i++) {
      const r = await firstSyncReply(server, listId, token)
      ok &&= r.json === h.json
      warm.push(r)
    }
    h.holder.destroy()
    const cold = []
    const coldWarmed = []
    if (server.kind === 'listok') {
      for (let i = 0; i < Number(opts.restarts); i++) {
        // cold: the first request of a fresh process opens the list
        await server.stop({ keepData: true })
        server = await startServer(name, { logFile: logFile(`restart${i + 1}`), dataDir })
        const r = await firstSyncReply(server, listId, token)
        ok &&= r.json === h.json
        cold.push(r)
        // cold list, warmed process: another list is opened first, so only the load of this
        // list from SQLite (snapshot + tail) is timed
        await server.stop({ keepData: true })
        server = await startServer(name, { logFile: logFile(`restart${i + 1}w`), dataDir })
        await firstSyncReply(server, warmupId, tokens.get(warmupId))
        const rw = await firstSyncReply(server, listId, token)
        ok &&= rw.json === h.json
        coldWarmed.push(rw)
      }
      const db = path.join(dataDir, 'listok.db')
      if (fs.existsSync(db)) h.dbKb = fs.statSync(db).size / 1024
    }
    h.rssMb = readProc(server.pid).rssKb / 1024
    rows.push({ name, h, warm, cold, coldWarmed, ok })
  } finally {
    await server.stop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—')
const med = (rs, k) => median(rs.map((r) => r[k]))
const lines = [
  `### Opening a list with ${UPDATES} updates in its history`,
  '',
  'Times to the sync step 2 reply in ms, from socket creation / from open. ' +
  `Cold: Listok restarted on the same data dir, the list is the fresh process's first request (median of ${opts.restarts}). ` +
  'Cold list, warm process: restarted, another list opened first, then this one loaded from SQLite. ' +
  `Warm: document already in memory (median of ${opts.opens}).`,
  '',
  '| server | write + reach 2nd client (s) | cold | cold list, warm process | warm | reply (kB) | db (kB) | content equal |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
]
const pair = (rs) => (rs.length ? `${f(med(rs, 'fromCreateMs'))} / ${f(med(rs, 'fromOpenMs'))}` : '—')
for (const { name, h, warm, cold, coldWarmed, ok } of rows) {
  lines.push(`| ${name} | ${f(h.writeSeconds)} | ${pair(cold)} | ${pair(coldWarmed)} | ${pair(warm)} | ` +
    `${f(warm[0].bytes / 1024)} | ${f(h.dbKb)} | ${ok ? 'yes' : 'NO'} |`)
}
const table = lines.join('\n') + '\n'
console.log(table)
const out = opts.out ?? path.join(BENCH_DIR, 'results', `history-${stamp}.md`)
fs.writeFileSync(out, table)
console.error(`written: ${path.relative(process.cwd(), out)}`)
// exit explicitly: a closed provider's reconnect timer or a half-closed socket must not hold the run
process.exit(rows.some((r) => !r.ok) ? 1 : 0)
