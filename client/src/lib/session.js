// One open list: its Y.Doc, the IndexedDB copy, the socket to the server, presence, undo,
// and the sync state shown to the user.
//
// "saved" needs an acknowledgement that the y-websocket protocol does not have. We get one
// from ordering: after local changes we send a SyncStep1 on the same socket; the server
// answers it with a SyncStep2 only after it has handled every message sent before it. When
// that answer arrives, everything up to the probe is on the server.
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'
import { WebsocketProvider, messageSync, messageAuth } from 'y-websocket'
import * as syncProtocol from 'y-protocols/sync'
import * as authProtocol from 'y-protocols/auth'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { LOCAL, itemsMap, metaMap, initMeta, readItems, readTitle, addItem, updateItem } from './items.js'
import { newListId, newToken } from './ids.js'
import { getList, upsertList } from './registry.js'
import { putList, getList as fetchList } from './api.js'
import { userName, userColor } from './profile.js'

// The final close codes of server/errors.py CloseCode.
export const CLOSE = { UNAUTHORIZED: 4401, NOT_FOUND: 4404 }

export const dbName = (listId) => `listok:${listId}`

export const ROLES = ['owner', 'edit', 'view']
const canEdit = (role) => role === 'owner' || role === 'edit'

function wsBase () {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`
}

export class ListSession {
  constructor (listId) {
    this.listId = listId
    this.record = getList(listId) || upsertList(listId, {})
    this.doc = new Y.Doc()
    this.idb = new IndexeddbPersistence(dbName(listId), this.doc)
    this.provider = null
    this.state = 'offline' // offline | syncing | saved
    this.problem = this.record.access || null // null | 'revoked' | 'deleted'
    // Until a role is known (a link just opened: the server has not said what it allows),
    // nothing beyond looking is offered; see docs/decisions/client-role-from-the-server.md.
    this.readOnly = !canEdit(this.record.role) || !!this.problem
    this.roleConfirmed = false // the server answered this session's role question
    this.learning = null // the question in flight
    this.roleTries = 0
    this.roleTimer = 0
    this.localSeq = 0
    this.ackedSeq = 0
    this.probes = []
    this.probeTimer = 0
    this.destroyed = false
    this.listeners = new Set()
    this.undo = new Y.UndoManager([itemsMap(this.doc), metaMap(this.doc)], {
      trackedOrigins: new Set([LOCAL]),
      captureTimeout: 400
    })
    this.doc.on('update', (_u, origin) => {
      if (origin === this.provider) return
      if (origin === this.idb && this.state === 'saved') return
      this.localSeq++
      this.scheduleProbe()
      this.refreshState()
    })
    // The browser knows before the socket does that the network is gone: say so at once.
    this.onOnline = () => this.connect()
    this.onOffline = () => { this.provider?.disconnect(); this.refreshState() }
    // A closed tab leaves the others' presence at once, not after the 30 s awareness timeout.
    this.onPageHide = () => {
      const p = this.provider
      if (p) awarenessProtocol.removeAwarenessStates(p.awareness, [this.doc.clientID], 'pagehide')
    }
    this.onPageShow = (e) => { if (e.persisted) this.setPresenceName() }
    addEventListener('online', this.onOnline)
    addEventListener('offline', this.onOffline)
    addEventListener('pagehide', this.onPageHide)
    addEventListener('pageshow', this.onPageShow)
    this.whenLoaded = this.idb.whenSynced.then(() => {
      if (this.record.pendingCreate) initMeta(this.doc, this.record.title || '')
      this.remember()
      this.doc.on('afterTransaction', () => this.rememberSoon())
      this.connect()
    })
  }

  on (fn) { this.listeners.add(fn); return () => this.listeners.delete(fn) }
  emit () { for (const fn of this.listeners) fn(this) }

  get token () { return this.record.token || null }

  /** 'owner' | 'edit' | 'view', or null while the server has not said (a link just opened). */
  get role () { return ROLES.includes(this.record.role) ? this.record.role : null }

  /** Keeps the home screen's title and counts current. */
  remember () {
    const items = readItems(this.doc)
    this.record = upsertList(this.listId, {
      title: readTitle(this.doc) || this.record.title,
      count: items.length,
      done: items.filter((i) => i.checked).length
    })
  }

  rememberSoon () {
    clearTimeout(this.rememberTimer)
    this.rememberTimer = setTimeout(() => this.remember(), 300)
  }

  /** Makes sure a list created on this device exists on the server, then opens the socket. */
  async connect () {
    if (this.destroyed || this.problem) return
    if (this.record.pendingCreate && !(await this.createOnServer())) {
      this.refreshState()
      return
    }
    if (!this.provider) this.openProvider()
    else if (!this.provider.shouldConnect) this.provider.connect()
    this.refreshState()
  }

  async createOnServer () {
    const r = await putList(this.listId, readTitle(this.doc) || this.record.title || '', this.token)
    if (!r.ok) {
      if (r.status === 401 || r.status === 403) this.lostAccess('revoked')
      return false
    }
    this.record = upsertList(this.listId, {
      pendingCreate: false,
      ...(r.data && r.data.token ? { token: r.data.token, role: r.data.role || 'owner' } : {})
    })
    return true
  }

  openProvider () {
    const provider = new WebsocketProvider(wsBase(), this.listId, this.doc, {
      params: this.token ? { token: this.token } : {},
      maxBackoffTime: 5000
    })
    this.provider = provider
    const original = provider.messageHandlers[messageSync]
    provider.messageHandlers[messageSync] = (encoder, decoder, p, emitSynced, type) => {
      const peek = decoding.clone(decoder)
      const syncType = decoding.readVarUint(peek)
      original(encoder, decoder, p, emitSynced, type)
      if (emitSynced && syncType === syncProtocol.messageYjsSyncStep2) this.ack()
    }
    // A view-only connection's change is refused with an auth "permission denied" message.
    provider.messageHandlers[messageAuth] = (_encoder, decoder) => {
      authProtocol.readAuthMessage(decoder, this.doc, () => this.denied())
    }
    provider.on('status', ({ status }) => {
      this.probes = []
      if (status === 'connected') this.probes.push(this.localSeq) // the provider's own SyncStep1
      if (status === 'connected' && !this.roleConfirmed) this.learnRole() // not answered yet
      this.refreshState()
    })
    provider.on('sync', () => this.refreshState())
    provider.on('closed', (event) => this.onClosed(event))
    provider.awareness.setLocalStateField('user', { name: userName(), color: userColor() })
    provider.awareness.on('change', () => this.emit())
    if (this.readOnly) this.probes = []
    this.learnRole()
  }

  /**
   * Asks the server what this device's token allows. The answer often comes after the socket
   * has synced the items, so it redraws the view itself (setRole). Asked once per session;
   * an ask with no answer (network, timeout, 5xx, 429) is repeated with a growing pause while
   * the socket is up, and on the next connection.
   */
  learnRole () {
    clearTimeout(this.roleTimer)
    if (!this.learning && !this.roleConfirmed) {
      this.learning = this.askRole().finally(() => { this.learning = null })
    }
    return this.learning
  }

  async askRole () {
    const r = await fetchList(this.listId, this.token)
    if (this.destroyed) return
    if (r.status === 401) return this.lostAccess('revoked')
    if (r.status === 404) return this.lostAccess('deleted')
    const role = r.ok && r.data ? r.data.role : null
    if (ROLES.includes(role)) {
      this.roleConfirmed = true
      this.setRole(role)
    } else if (this.provider?.wsconnected) {
      const pause = Math.min(30_000, 1000 * 2 ** this.roleTries++)
      this.roleTimer = setTimeout(() => this.learnRole(), pause)
    }
  }

  /** A role learned (from the server, or its refusal of a change): stored, and drawn at once. */
  setRole (role) {
    const before = this.record.role
    this.record = upsertList(this.listId, { role })
    const readOnly = !canEdit(role) || !!this.problem
    if (before === role && readOnly === this.readOnly) return
    this.readOnly = readOnly
    this.emit()
  }

  /**
   * 4401: this device's link no longer gives access (revoked, or the list is gone); 4404: the
   * list was deleted. Both are final: stop reconnecting, keep the local copy (with anything
   * not yet sent) read-only, and remember it for the home screen. Never re-create the list.
   */
  onClosed ({ code }) {
    if (code === CLOSE.UNAUTHORIZED) this.lostAccess('revoked')
    else if (code === CLOSE.NOT_FOUND) this.lostAccess('deleted')
  }

  lostAccess (why) {
    if (this.problem === why) return
    this.problem = why
    this.provider?.disconnect()
    this.record = upsertList(this.listId, { access: why })
    this.readOnly = true
    this.refreshState()
  }

  /** Changes made here that the server never confirmed (lost with the access). */
  get unsent () {
    return this.ackedSeq < this.localSeq
  }

  /**
   * This device may only view the list but changed it (an edit link downgraded, or a stale
   * local change). The server never takes that divergent copy: drop it and reload from the
   * server, read-only from now on. At most once a minute, so it cannot loop.
   */
  async denied () {
    this.setRole('view')
    const key = `listok.reset.${this.listId}`
    if (this.destroyed || Date.now() - Number(sessionStorage.getItem(key) || 0) < 60_000) return
    sessionStorage.setItem(key, String(Date.now()))
    this.destroyed = true
    this.provider?.destroy()
    await this.idb.clearData()
    location.reload()
  }

  ack () {
    const seq = this.probes.shift()
    if (seq !== undefined && seq > this.ackedSeq) this.ackedSeq = seq
    this.refreshState()
  }

  scheduleProbe () {
    clearTimeout(this.probeTimer)
    this.probeTimer = setTimeout(() => this.probe(), 150)
  }

  probe () {
    const ws = this.provider?.ws
    if (!this.provider?.wsconnected || !ws || ws.readyState !== WebSocket.OPEN) return
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, messageSync)
    syncProtocol.writeSyncStep1(encoder, this.doc)
    this.probes.push(this.localSeq)
    ws.send(encoding.toUint8Array(encoder))
  }

  refreshState () {
    const p = this.provider
    let state
    if (!p || !p.wsconnected) state = 'offline'
    else if (!p.synced || this.ackedSeq < this.localSeq) state = 'syncing'
    else state = 'saved'
    if (state === 'syncing' && p?.synced && !this.probes.length) this.scheduleProbe()
    if (state !== this.state || this.lastProblem !== this.problem) {
      this.state = state
      this.lastProblem = this.problem
    }
    this.emit()
  }

  setPresenceName () {
    const awareness = this.provider?.awareness
    if (!awareness) return
    const state = awareness.getLocalState() || {}
    awareness.setLocalState({ ...state, user: { name: userName(), color: userColor() } })
  }

  /** Who else has this list open: [{clientId, name, color}]. */
  peers () {
    const out = []
    if (!this.provider) return out
    this.provider.awareness.getStates().forEach((s, clientId) => {
      if (clientId !== this.doc.clientID && s && s.user) {
        const color = String(s.user.color || '')
        out.push({ clientId, name: String(s.user.name || ''), color: /^#[0-9a-f]{6}$/i.test(color) ? color : '' })
      }
    })
    return out
  }

  destroy () {
    this.destroyed = true
    clearTimeout(this.probeTimer)
    clearTimeout(this.rememberTimer)
    clearTimeout(this.roleTimer)
    removeEventListener('online', this.onOnline)
    removeEventListener('offline', this.onOffline)
    removeEventListener('pagehide', this.onPageHide)
    removeEventListener('pageshow', this.onPageShow)
    this.remember()
    this.undo.destroy()
    this.provider?.destroy()
    this.idb.destroy()
    this.doc.destroy()
  }
}

/**
 * A new list of this device's own with the items of `doc` (fresh ids, ticks kept): how a
 * person whose access ended keeps what they had, their unsent changes included.
 */
export async function copyToNewList (doc, title) {
  const listId = newListId()
  const copy = new Y.Doc()
  initMeta(copy, title)
  for (const item of readItems(doc)) {
    const id = addItem(copy, item, item.created_by)
    if (id && item.checked) updateItem(copy, id, { checked: true })
  }
  const idb = new IndexeddbPersistence(dbName(listId), copy)
  await idb.whenSynced
  await idb.destroy()
  copy.destroy()
  upsertList(listId, { title, token: newToken(), pendingCreate: true, role: 'owner', openedAt: Date.now() })
  return listId
}
