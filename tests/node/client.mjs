// One stock yjs + y-websocket client, driven by JSON lines on stdin; answers on stdout.
// Used by tests/test_interop.py. Every command gets exactly one reply: {"id", "ok", ...}.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import readline from 'node:readline'

let doc = new Y.Doc()
let provider = null
const closes = []

const items = () => doc.getMap('items')
const itemsJson = () => {
  const out = {}
  items().forEach((item, id) => { out[id] = item instanceof Y.Map ? item.toJSON() : item })
  return out
}

function connect ({ url, listId, params = {}, name = null }) {
  provider = new WebsocketProvider(url, listId, doc, {
    WebSocketPolyfill: WebSocket, disableBc: true, params, maxBackoffTime: 300
  })
  provider.on('connection-close', (event) => {
    if (event) closes.push({ code: event.code, reason: String(event.reason || '') })
  })
  if (name) provider.awareness.setLocalStateField('user', { name })
}

const handlers = {
  connect (cmd) { connect(cmd); return {} },
  synced () { return { synced: Boolean(provider && provider.synced), connected: Boolean(provider && provider.wsconnected) } },
  disconnect () { provider.disconnect(); return {} },
  reconnect () { provider.connect(); return {} },
  destroy () { provider.destroy(); return {} },
  add_item ({ itemId, fields }) {
    doc.transact(() => { items().set(itemId, new Y.Map(Object.entries(fields))) })
    return {}
  },
  set_field ({ itemId, field, value }) { items().get(itemId).set(field, value); return {} },
  delete_item ({ itemId }) { items().delete(itemId); return {} },
  set_meta ({ key, value }) { doc.getMap('meta').set(key, value); return {} },
  text_insert ({ name, index, text }) { doc.getText(name).insert(index, text); return {} },
  state () {
    return { items: itemsJson(), meta: doc.getMap('meta').toJSON(), texts: { notes: doc.getText('notes').toString() } }
  },
  set_awareness ({ field, value }) { provider.awareness.setLocalStateField(field, value); return {} },
  awareness () {
    const states = {}
    provider.awareness.getStates().forEach((state, clientId) => { states[clientId] = state })
    return { self: doc.clientID, states }
  },
  closes () { return { closes } },
  client_id () { return { clientId: doc.clientID } }
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  let cmd
  try { cmd = JSON.parse(line) } catch { return }
  let reply
  try {
    reply = { id: cmd.id, ok: true, ...handlers[cmd.op](cmd) }
  } catch (err) {
    reply = { id: cmd.id, ok: false, error: String(err && err.stack || err) }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
})
rl.on('close', () => { if (provider) provider.destroy(); process.exit(0) })
process.stdout.write(JSON.stringify({ id: 0, ok: true, ready: true }) + '\n')
