#!/usr/bin/env node
// Scale-out benchmarks (issue 10): Listok on its SQLite default, on PostgreSQL (one process) and
// as two processes sharing PostgreSQL + Redis (`listok serve --workers 2`, the kernel spreads the
// sockets), beside the reference servers; then fan-out across processes (write on A, observed on
// B) against the same process (write on A, observed on A).
//
//   node bench/scaleout.mjs [--profiles M,T] [--servers listok,listok-pg,listok-2p,...]
//                           [--repeat N] [--procs N] [--writes N] [--rate N] [--out FILE]
//
// Needs PostgreSQL (LISTOK_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres:
// each run creates and drops a database of its own, with psql) and Redis (LISTOK_BENCH_REDIS_URL,
// default redis://127.0.0.1:6379/0; each run uses its own channel prefix). Output: markdown
// tables, printed and written to bench/results/scaleout-<timestamp>.md.
import crypto from 'node:crypto'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { generateKeyBetween } from 'fractional-indexing'
import { monoMs } from './lib/clock.mjs'
import { PROFILES } from './lib/profiles.mjs'
import { profileTable } from './lib/report.mjs'
import { runProfile } from './lib/runner.mjs'
import { SERVERS, startServer } from './lib/servers.mjs'
import { summarize } from './lib/stats.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const PG_ADMIN = process.env.LISTOK_BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.LISTOK_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

// The scale-out variants of Listok; what they share (database, Redis prefix) is set per run.
SERVERS['listok-pg'] = { label: 'Listok on PostgreSQL (1 process)', kind: 'listok', env: {}, db: true }
SERVERS['listok-2p'] = {
  label: 'Listok, 2 processes (PostgreSQL + Redis, --workers 2)',
  kind: 'listok',
  env: { LISTOK_WORKERS: '2' },
  db: true,
  redis: true
}

const { values: opts } = parseArgs({
  options: {
    profiles: { type: 'string', default: 'M,T' },
    servers: { type: 'string', default: 'listok,listok-pg,listok-2p,y-websocket-server,hocuspocus' },
    repeat: { type: 'string', default: '1' },
    procs: { type: 'string', default: '3' },
    drain: { type: 'string', default: '30' },
    writes: { type: 'string', default: '400' },
    rate: { type: 'string', default: '40' },
    'fanout-only': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (opts.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 13).join('\n'))
  process.exit(0)
}

function psql (sql) {
  const out = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_ADMIN, '-c', sql], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`psql ${sql}: ${out.stderr || out.error}`)
}

/** A database and a Redis prefix of this run's own; drop() removes the database. */
function sharedServices () {
  const name = `listok_bench_${process.pid}_${crypto.randomBytes(4).toString('hex')}`
  psql(`CREATE DATABASE "${name}"`)
  const base = PG_ADMIN.slice(0, PG_ADMIN.lastIndexOf('/'))
  return {
    env: {
      LISTOK_DATABASE_URL: `${base}/${name}`,
      LISTOK_REDIS_URL: REDIS_URL,
      LISTOK_REDIS_PREFIX: `${name}:`
    },
    drop: () => psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const resultsDir = path.join(BENCH_DIR, 'results')
const logDir = path.join(resultsDir, 'logs', `scaleout-${stamp}`)
fs.mkdirSync(logDir, { recursive: true })
const outFile = opts.out ?? path.join(resultsDir, `scaleout-${stamp}.md`)
const servers = opts.servers.split(',')
for (const s of servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}; known: ${Object.keys(SERVERS)}`)
const repeat = Math.max(1, Number(opts.repeat))
const procs = Math.max(1, Number(opts.procs))

const sections = [
  `# Listok scale-out benchmarks ${stamp}`,
  '',
  `Node ${process.version}; ${procs} load-generator processes; repeat ${repeat}; ` +
  `servers: ${servers.map((s) => `${s} = ${SERVERS[s].label}`).join('; ')}.`,
  `PostgreSQL: ${PG_ADMIN.replace(/\/[^/]*$/, '/<own database per run>')}; Redis: ${REDIS_URL} (own prefix per run).`,
  ''
]

// -- 1. the load profiles, every variant started fresh -------------------------------------------
if (!opts['fanout-only']) {
  for (const profileName of opts.profiles.split(',')) {
    const profile = PROFILES[profileName]
    if (!profile) throw new Error(`unknown profile ${profileName}`)
    const runsByServer = new Map(servers.map((s) => [s, []]))
    for (let r = 0; r < repeat; r++) {
      const order = servers.map((_, i) => servers[(i + r) % servers.length])
      for (const serverName of order) {
        const spec = SERVERS[serverName]
        const shared = spec.db ? sharedServices() : null
        const extraEnv = shared ? { ...shared.env, ...(spec.redis ? {} : { LISTOK_REDIS_URL: '' }) } : {}
        const logFile = path.join(logDir, `${profileName}-${serverName}-${r + 1}.log`)
        process.stderr.write(`[${profileName} ${r + 1}/${repeat}] ${serverName} ... `)
        const t0 = Date.now()
        try {
          const m = await runProfile({
            profile, serverName, procs, logFile, drainSeconds: Number(opts.drain), verifyLists: 5, extraEnv
          })
          m.crashed = m.serverExit !== null && m.serverExit !== undefined
          runsByServer.get(serverName).push(m)
          process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s` +
            (m.fanout ? `, fan-out p99 ${m.fanout.p99.toFixed(1)} ms, ${Math.round(m.deliveriesPerSec)} deliveries/s` : '') + '\n')
        } finally {
          shared?.drop()
        }
      }
    }
    const labels = Object.fromEntries(servers.map((s) => [s, s]))
    const table = profileTable(profileName, profile, runsByServer, labels)
    sections.push(table)
    console.log(table)
  }
}

// -- 2. fan-out across processes against within one ------------------------------------------------
const STAMP = 'bench:'

function client (server, listId, token, label) {
  const doc = new Y.Doc()
  const items = doc.getMap('items')
  const seen = new Map() // item key -> arrival (monotonic ms)
  items.observe((event) => {
    if (event.transaction.local) return
    const now = monoMs()
    for (const [key, change] of event.changes.keys) if (change.action === 'add') seen.set(key, now)
  })
  const provider = new WebsocketProvider(server.wsUrl, listId, doc, {
    WebSocketPolyfill: WebSocket, disableBc: true, params: { token }, maxBackoffTime: 1000
  })
  provider.awareness.setLocalState(null)
  const synced = new Promise((resolve) => {
    const on = (ok) => { if (ok) { provider.off('sync', on); resolve() } }
    provider.on('sync', on)
  })
  return { doc, items, seen, provider, synced, label }
}

async function fanoutRun () {
  const shared = sharedServices()
  const started = []
  try {
    for (const name of ['a', 'b']) {
      started.push(await startServer('listok-pg', {
        logFile: path.join(logDir, `fanout-${name}.log`), extraEnv: shared.env
      }))
    }
    const [a, b] = started
    const res = await fetch(`${a.httpUrl}/api/lists`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'fan-out' })
    })
    const { id: listId, token } = await res.json()
    const writer = client(a, listId, token, 'writer')
    const same = client(a, listId, token, 'same process')
    const cross = client(b, listId, token, 'other process')
    await Promise.all([writer.synced, same.synced, cross.synced])
    const writes = Number(opts.writes)
    const gap = 1000 / Number(opts.rate)
    const stamps = new Map()
    let order = null
    const t0 = monoMs()
    for (let i = 0; i < writes + 20; i++) {
      const due = t0 + i * gap
      const wait = due - monoMs()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      order = generateKeyBetween(order, null)
      const key = crypto.randomBytes(12).toString('base64url')
      const now = Date.now()
      const at = monoMs()
      writer.items.set(key, new Y.Map([
        ['name', `item ${i}`], ['qty', 1], ['unit', null], ['note', STAMP + at.toFixed(3)],
        ['category', 'pantry'], ['checked', false], ['checked_at', null], ['order', order],
        ['created_at', now], ['updated_at', now], ['created_by', 'bench']
      ]))
      if (i >= 20) stamps.set(key, at) // the first 20 warm the path up
    }
    const deadline = monoMs() + 30000
    while (monoMs() < deadline && [same, cross].some((c) => [...stamps.keys()].some((k) => !c.seen.has(k)))) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const lat = (c) => summarize(Float64Array.from([...stamps].filter(([k]) => c.seen.has(k)).map(([k, t]) => c.seen.get(k) - t)))
    const out = { writes: stamps.size, same: lat(same), cross: lat(cross) }
    out.sameMissing = [...stamps.keys()].filter((k) => !same.seen.has(k)).length
    out.crossMissing = [...stamps.keys()].filter((k) => !cross.seen.has(k)).length
    for (const c of [writer, same, cross]) c.provider.destroy()
    return out
  } finally {
    for (const s of started) await s.stop()
    shared.drop()
  }
}

process.stderr.write(`[fan-out] 2 processes on PostgreSQL + Redis, ${opts.writes} writes at ${opts.rate}/s ... `)
const runs = []
for (let r = 0; r < repeat; r++) runs.push(await fanoutRun())
process.stderr.write('done\n')
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—')
const rows = [
  '### Fan-out: write on process A, observed on A (same process) and on B (other process)',
  '',
  `One writer on A, one observer on A, one on B; ${opts.writes} item writes at ${opts.rate}/s after 20 ` +
  'warm-up writes; one clock (CLOCK_MONOTONIC) in one Node process; stock yjs + y-websocket.',
  '',
  '| run | observer | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | missing |',
  '| --- | --- | --- | --- | --- | --- | --- |'
]
runs.forEach((m, i) => {
  rows.push(`| ${i + 1} | same process | ${f(m.same.p50)} | ${f(m.same.p95)} | ${f(m.same.p99)} | ${f(m.same.max)} | ${m.sameMissing} |`)
  rows.push(`| ${i + 1} | other process | ${f(m.cross.p50)} | ${f(m.cross.p95)} | ${f(m.cross.p99)} | ${f(m.cross.max)} | ${m.crossMissing} |`)
  rows.push(`| ${i + 1} | ratio other/same | ${f(m.cross.p50 / m.same.p50)} | ${f(m.cross.p95 / m.same.p95)} | ${f(m.cross.p99 / m.same.p99)} | | |`)
})
const fanoutTable = rows.join('\n') + '\n'
sections.push(fanoutTable)
console.log(fanoutTable)

fs.writeFileSync(outFile, sections.join('\n'))
console.error(`written: ${path.relative(process.cwd(), outFile)} (server logs in ${path.relative(process.cwd(), logDir)})`)
process.exit(0)
