// A WebSocket polyfill that lets the stock y-websocket WebsocketProvider talk to @hocuspocus/server.
//
// Hocuspocus prefixes every message (both ways) with the document name (a lib0 varString) and
// queues everything until it receives an auth message for that document. This shim, on the
// client side only, sends the auth message first, adds the prefix to outgoing frames and strips
// it from incoming ones. Hocuspocus-only message types are mapped or dropped:
//   SyncReply (4) -> Sync (0); Auth (2, "authenticated") and SyncStatus (8, acks) are dropped.
import WebSocket from 'ws'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

const SYNC = 0
const AUTH = 2
const SYNC_REPLY = 4
const SYNC_STATUS = 8
const PING = 9
const PONG = 10

export function hocuspocusPolyfill (documentName) {
  const prefix = (() => {
    const e = encoding.createEncoder()
    encoding.writeVarString(e, documentName)
    return encoding.toUint8Array(e)
  })()

  return class HocuspocusSocket extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols)
      this._onmessage = null
      this._onopen = null
      super.onmessage = (event) => this._receive(event)
      super.onopen = (event) => {
        const e = encoding.createEncoder()
        encoding.writeUint8Array(e, prefix)
        encoding.writeVarUint(e, AUTH)
        encoding.writeVarUint(e, 0) // AuthMessageType.Token
        encoding.writeVarString(e, '') // token: no auth configured on the anchor server
        super.send(encoding.toUint8Array(e))
        if (this._onopen) this._onopen(event)
      }
    }

    set onmessage (fn) { this._onmessage = fn }
    get onmessage () { return this._onmessage }
    set onopen (fn) { this._onopen = fn }
    get onopen () { return this._onopen }

    send (data) {
      const body = data instanceof Uint8Array ? data : new Uint8Array(data)
      const framed = new Uint8Array(prefix.length + body.length)
      framed.set(prefix, 0)
      framed.set(body, prefix.length)
      super.send(framed)
    }

    _receive (event) {
      if (!this._onmessage) return
      const buf = new Uint8Array(event.data)
      const decoder = decoding.createDecoder(buf)
      decoding.readVarString(decoder) // document name
      const start = decoder.pos
      const type = decoding.readVarUint(decoder)
      let payload
      if (type === AUTH || type === SYNC_STATUS || type === PONG) return
      if (type === PING) {
        const e = encoding.createEncoder()
        encoding.writeVarUint(e, PONG)
        this.send(encoding.toUint8Array(e))
        return
      }
      if (type === SYNC_REPLY) {
        const e = encoding.createEncoder()
        encoding.writeVarUint(e, SYNC)
        encoding.writeUint8Array(e, buf.subarray(decoder.pos))
        payload = encoding.toUint8Array(e)
      } else {
        payload = buf.subarray(start)
      }
      this._onmessage({ data: payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength) })
    }
  }
}
