// The y-websocket wire protocol for the light load generator, without yjs on the hot path:
// varints, frame builders, Hocuspocus' document-name prefix, and a skipper that walks a Yjs v1
// update only far enough to learn which (client, clock) ranges it carries. Receivers use those
// ranges to count deliveries and time them; they never build a document.

export function varUintLength (n) {
  let len = 1
  while (n > 0x7f) { n = Math.floor(n / 128); len++ }
  return len
}

export function writeVarUint (buf, pos, n) {
  while (n > 0x7f) {
    buf[pos++] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  buf[pos++] = n
  return pos
}

export function encodeVarUint (n) {
  const out = Buffer.allocUnsafe(varUintLength(n))
  writeVarUint(out, 0, n)
  return out
}

export function encodeVarString (s) {
  const bytes = Buffer.from(s, 'utf8')
  return Buffer.concat([encodeVarUint(bytes.length), bytes])
}

/** A decoder over a Buffer/Uint8Array: pos advances; throws RangeError past the end. */
export class Reader {
  constructor (buf, pos = 0) {
    this.buf = buf
    this.pos = pos
  }

  byte () {
    if (this.pos >= this.buf.length) throw new RangeError('truncated')
    return this.buf[this.pos++]
  }

  uint () {
    let value = 0
    let mult = 1
    for (;;) {
      const b = this.byte()
      value += (b & 0x7f) * mult
      if (b < 0x80) return value
      mult *= 128
      if (mult > 2 ** 56) throw new RangeError('varuint too long')
    }
  }

  skipVarInt () {
    while (this.byte() >= 0x80) { /* continuation */ }
  }

  bytes () {
    const len = this.uint()
    const start = this.pos
    this.pos += len
    if (this.pos > this.buf.length) throw new RangeError('truncated')
    return this.buf.subarray(start, this.pos)
  }

  string () {
    return Buffer.from(this.bytes()).toString('utf8')
  }

  skipBytes () {
    const len = this.uint()
    this.pos += len
    if (this.pos > this.buf.length) throw new RangeError('truncated')
  }

  skipAny () {
    const t = this.byte()
    switch (t) {
      case 127: case 126: case 121: case 120: return
      case 125: this.skipVarInt(); return
      case 124: this.pos += 4; return
      case 123: case 122: this.pos += 8; return
      case 119: case 116: this.skipBytes(); return
      case 118: {
        const n = this.uint()
        for (let i = 0; i < n; i++) { this.skipBytes(); this.skipAny() }
        return
      }
      case 117: {
        const n = this.uint()
        for (let i = 0; i < n; i++) this.skipAny()
        return
      }
      default: throw new RangeError(`unknown any type ${t}`)
    }
  }
}

/**
 * Walks a Yjs update (v1 encoding) and returns the struct ranges it carries, as a flat array
 * [client, startClock, endClock, client, ...], plus whether it has a non-empty delete set.
 * Content is skipped, not decoded (strings: only their UTF-16 length is needed).
 */
export function updateRanges (update) {
  const r = new Reader(update)
  const out = []
  const groups = r.uint()
  for (let g = 0; g < groups; g++) {
    const structs = r.uint()
    const client = r.uint()
    const start = r.uint()
    let clock = start
    for (let s = 0; s < structs; s++) {
      const info = r.byte()
      const ref = info & 0x1f
      if (ref === 0 || ref === 10) { clock += r.uint(); continue } // GC, Skip
      const cantCopyParent = (info & 0xc0) === 0
      if (info & 0x80) { r.uint(); r.uint() } // origin
      if (info & 0x40) { r.uint(); r.uint() } // right origin
      if (cantCopyParent) {
        if (r.uint() === 1) r.skipBytes() // parent: root type name
        else { r.uint(); r.uint() } // parent: an item id
        if (info & 0x20) r.skipBytes() // parentSub
      }
      let len = 1
      switch (ref) {
        case 1: len = r.uint(); break // deleted
        case 2: { len = r.uint(); for (let i = 0; i < len; i++) r.skipBytes(); break } // JSON
        case 3: r.skipBytes(); break // binary
        case 4: len = r.string().length; break // string: clock counts UTF-16 units
        case 5: r.skipBytes(); break // embed
        case 6: r.skipBytes(); r.skipBytes(); break // format
        case 7: { const t = r.uint(); if (t === 3 || t === 5) r.skipBytes(); break } // type
        case 8: { len = r.uint(); for (let i = 0; i < len; i++) r.skipAny(); break } // any
        case 9: r.skipBytes(); r.skipAny(); break // doc
        default: throw new RangeError(`unknown content ${ref}`)
      }
      clock += len
    }
    out.push(client, start, clock)
  }
  const dsClients = r.uint()
  return { ranges: out, deletes: dsClients > 0 }
}

// -- frames -----------------------------------------------------------------------------------

export const MSG_SYNC = 0
export const MSG_AWARENESS = 1
export const MSG_AUTH = 2
export const MSG_QUERY_AWARENESS = 3
export const MSG_SYNC_REPLY = 4 // Hocuspocus
export const MSG_SYNC_STATUS = 8 // Hocuspocus
export const STEP1 = 0
export const STEP2 = 1
export const UPDATE = 2

export function syncFrame (sub, payload) {
  const out = Buffer.allocUnsafe(2 + varUintLength(payload.length) + payload.length)
  out[0] = MSG_SYNC
  out[1] = sub
  const pos = writeVarUint(out, 2, payload.length)
  out.set(payload, pos)
  return out
}

/** A state vector from a Map client -> clock (what the receiver has seen). */
export function encodeStateVector (clocks) {
  const parts = [encodeVarUint(clocks.size)]
  for (const [client, clock] of clocks) parts.push(encodeVarUint(client), encodeVarUint(clock))
  return Buffer.concat(parts)
}

/** One awareness entry as a whole frame: [1, len, [1, client, clock, json]]. */
export function awarenessFrame (entries) {
  const parts = [encodeVarUint(entries.length)]
  for (const [client, clock, json] of entries) parts.push(encodeVarUint(client), encodeVarUint(clock), encodeVarString(json))
  const payload = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([MSG_AWARENESS]), encodeVarUint(payload.length), payload])
}

export const EMPTY_STEP2 = syncFrame(STEP2, Buffer.from([0, 0]))

/** Hocuspocus frames carry the document name first (both ways). */
export function hocuspocusPrefix (documentName) {
  return encodeVarString(documentName)
}

export function hocuspocusAuth (prefix, token = '') {
  return Buffer.concat([prefix, Buffer.from([MSG_AUTH, 0]), encodeVarString(token)])
}
