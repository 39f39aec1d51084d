#!/usr/bin/env node
// Growth: server RSS and CPU as idle connections and loaded lists pile up (issue 14).
//
//   node bench/growth.mjs [--servers listok,hocuspocus,y-websocket-server]
//       [--idle 1000,5000,10000] [--lists 1000,10000] [--sizes 10,100] [--per-list 10]
//       [--hold 10] [--procs 2] [--smoke] [--out FILE]
//
// Idle: one fresh server; connections are added in stages (10 per list, no presence, nothing
// written) up to each count in --idle; after each stage the server is left alone for --hold
// seconds, then RSS is read and CPU over the hold is the idle cost (pings, timers).
// Loaded lists: one fresh server per item count in --sizes; lists are added in stages up to
// each count in --lists (the largest only for the smallest size); each list gets one
// connection that writes its items as one update and waits for the server's step 2 (so the
// update is applied, for Listok committed). "per list" is RSS growth / lists, and "minus its
// connection" subtracts the kB per idle connection measured by the idle run of the same server.
// Every stage is bounded (connect deadline, barrier deadline) and the run caps connections at
// what the descriptor limit and the loopback port range allow.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connectionLimits, cpuOf, cpuPct, fmt, Gen, makeLists, mdTable, sleep, slotBase } from './lib/lightrun.mjs'
import { createLists, readProc, SERVERS, startServer } from './lib/servers.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const { values: o } = parseArgs({
  options: {
    servers: { type: 'string', default: 'listok,hocuspocus,y-websocket-server' },
    idle: { type: 'string', default: '1000,5000,10000' },
    lists: { type: 'string', default: '1000,10000' },
    sizes: { type: 'string', default: '10,100' },
    'per-list': { type: 'string', default: '10' },
    hold: { type: 'string', default: '10' },
    procs: { type: 'string', default: '2' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (o.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 18).join('\n'))
  process.exit(0)
}
if (o.smoke) Object.assign(o, { idle: '100,200', lists: '50,100', sizes: '10', hold: '2' })
const servers = o.servers.split(',')
for (const s of servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`)
const idleStages = o.idle.split(',').map(Number)
const listStages = o.lists.split(',').map(Number)
const sizes = o.sizes.split(',').map(Number)
const perList = Number(o['per-list'])
const hold = Number(o.hold)
const procs = Math.max(1, Number(o.procs))
const limits = connectionLimits()

async function withServer (name, logFile, fn) {
  // Listok keeps a list loaded while a connection holds it; the unload timer is lifted anyway
  const server = await startServer(name, { logFile, extraEnv: { LISTOK_IDLE_UNLOAD_SECONDS: '3600' } })
  const gens = Array.from({ length: procs }, () => new Gen())
  try {
    await Promise.all(gens.map((g) => g.call({ cmd: 'init', url: server.wsUrl, server: server.kind, seed: 1, slotBase: slotBase(), speed: 1, presence: false, renewSeconds: 15, sampleEvery: 0, scriptSeconds: 0, rate: 1 }, 60000)))
    return await fn(server, gens)
  } finally {
    await Promise.all(gens.map((g) => g.close()))
    await server.stop()
  }
}

async function addLists (server, gens, count, template, startRun) {
  const lists = await makeLists(server, count, createLists)
  const perGen = gens.map(() => [])
  lists.forEach((l, i) => perGen[i % gens.length].push({ ...l, template }))
  const added = await Promise.all(gens.map((g, i) => g.call({ cmd: 'add', households: perGen[i], concurrency: 64, deadlineMs: 180000, startSpread: 0 }, 240000)))
  if (startRun) await Promise.all(gens.map((g) => g.call({ cmd: 'start', startSpread: 0 })))
  return { connections: added.reduce((n, a) => n + a.connections, 0), failed: added.reduce((n, a) => n + a.failed, 0) }
}

async function idle (name, logFile) {
  const rows = []
  const errors = []
  await withServer(name, logFile, async (server, gens) => {
    await sleep(1000)
    const base = readProc(server.pid)
    let total = 0
    for (const target of idleStages) {
      if (target > limits.max) { errors.push(`stage ${target} skipped: over the connection limit ${limits.max}`); break }
      const t0 = Date.now()
      const r = await addLists(server, gens, Math.ceil((target - total) / perList), `bulk:${perList}:0`, false)
      total += r.connections
      const connectSeconds = (Date.now() - t0) / 1000
      await sleep(1000)
      const c0 = cpuOf([server.pid])
      await sleep(hold * 1000)
      const c1 = cpuOf([server.pid])
      const now = readProc(server.pid)
      const prev = rows[rows.length - 1]
      rows.push({
        connections: total,
        failed: r.failed,
        rssMb: now.rssKb / 1024,
        kbPerConn: (now.rssKb - base.rssKb) / total,
        marginalKb: prev ? (now.rssKb - prev.rssKb) / (total - prev.connections) : (now.rssKb - base.rssKb) / total,
        idleCpu: cpuPct(c0, c1),
        connectSeconds,
        rssKb: now.rssKb
      })
      process.stderr.write(`  [${name}] ${total} idle connections: RSS ${(now.rssKb / 1024).toFixed(0)} MB, ${rows.at(-1).kbPerConn.toFixed(1)} kB/connection, idle CPU ${rows.at(-1).idleCpu.toFixed(1)}%${r.failed ? `, ${r.failed} failed` : ''}\n`)
      if (server.child.exitCode !== null) { errors.push('server exited'); break }
    }
    rows.baseMb = base.rssKb / 1024
  }).catch((err) => errors.push(String(err?.message ?? err)))
  return { rows, errors }
}

async function loaded (name, size, logFile, kbPerConn) {
  const rows = []
  const errors = []
  const stages = size === sizes[0] ? listStages : listStages.slice(0, 1)
  await withServer(name, logFile, async (server, gens) => {
    await sleep(1000)
    const base = readProc(server.pid)
    let total = 0
    for (const target of stages) {
      if (target > limits.max) { errors.push(`stage ${target} skipped: over the connection limit ${limits.max}`); break }
      const t0 = Date.now()
      const c0 = cpuOf([server.pid])
      const r = await addLists(server, gens, target - total, `bulk:1:${size}`, true)
      const b = await Promise.all(gens.map((g) => g.call({ cmd: 'barrier', deadlineMs: 180000 }, 240000)))
      const c1 = cpuOf([server.pid])
      total = target
      const fillSeconds = (Date.now() - t0) / 1000
      await sleep(hold * 1000)
      const now = readProc(server.pid)
      const perListKb = (now.rssKb - base.rssKb) / total
      rows.push({
        lists: total,
        size,
        failed: r.failed + b.reduce((n, x) => n + (x.of - x.ok), 0),
        rssMb: now.rssKb / 1024,
        perListKb,
        minusConnKb: Number.isFinite(kbPerConn) ? perListKb - kbPerConn : NaN,
        fillSeconds,
        cpuMsPerList: ((c1.cpuSeconds - c0.cpuSeconds) * 1000) / (target - (rows.at(-1)?.lists ?? 0))
      })
      process.stderr.write(`  [${name}] ${total} lists of ${size} items: RSS ${(now.rssKb / 1024).toFixed(0)} MB, ${perListKb.toFixed(1)} kB/list (fill ${fillSeconds.toFixed(0)} s)\n`)
      if (server.child.exitCode !== null) { errors.push('server exited'); break }
    }
  }).catch((err) => errors.push(String(err?.message ?? err)))
  return { rows, errors }
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const resultsDir = path.join(BENCH_DIR, 'results')
const logDir = path.join(resultsDir, 'logs', `growth-${stamp}`)
fs.mkdirSync(logDir, { recursive: true })
const outFile = o.out ?? path.join(resultsDir, `growth-${stamp}.md`)

const idleRows = []
const listRows = []
const errors = []
for (const name of servers) {
  process.stderr.write(`[growth] ${name}: idle connections\n`)
  const i = await idle(name, path.join(logDir, `${name}-idle.log`))
  for (const r of i.rows) idleRows.push([name, String(r.connections), fmt(r.rssMb, 0), fmt(r.kbPerConn, 1), fmt(r.marginalKb, 1), fmt(r.idleCpu, 1), fmt(r.connectSeconds, 1), String(r.failed)])
  for (const e of i.errors) errors.push(`${name} idle: ${e}`)
  const kbPerConn = i.rows[0]?.kbPerConn
  for (const size of sizes) {
    process.stderr.write(`[growth] ${name}: loaded lists of ${size} items\n`)
    const l = await loaded(name, size, path.join(logDir, `${name}-lists-${size}.log`), kbPerConn)
    for (const r of l.rows) listRows.push([name, String(r.size), String(r.lists), fmt(r.rssMb, 0), fmt(r.perListKb, 1), fmt(r.minusConnKb, 1), fmt(r.cpuMsPerList, 2), fmt(r.fillSeconds, 0), String(r.failed)])
    for (const e of l.errors) errors.push(`${name} lists ${size}: ${e}`)
  }
}

const lines = [
  `# Growth ${stamp}`,
  '',
  `Light generators (${procs} processes), fresh server per table block; ${perList} connections per list for idle connections; ` +
  `RSS of the server process and its children from /proc after a ${hold} s hold. Limits: ${limits.fds} descriptors, ${limits.ports} loopback ports. ` +
  `Machine shared (load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end).`,
  '',
  '## Idle connections',
  '',
  mdTable(['server', 'connections', 'RSS (MB)', 'kB/connection (since start)', 'kB/connection (this stage)', `idle CPU over ${hold} s (% of a core)`, 'connect (s)', 'failed'], idleRows),
  '',
  '## Loaded lists',
  '',
  mdTable(['server', 'items per list', 'lists', 'RSS (MB)', 'kB per list (with its connection)', 'kB per list (minus one idle connection)', 'server CPU ms per list loaded', 'fill (s)', 'failed'], listRows),
  ''
]
for (const e of errors) lines.push(`- ${e}`)
const text = lines.join('\n')
fs.writeFileSync(outFile, text)
console.log(text)
console.error(`written: ${path.relative(process.cwd(), outFile)}`)
process.exit(o.smoke && (errors.length || idleRows.some((r) => r[7] !== '0') || listRows.some((r) => r[8] !== '0')) ? 1 : 0)
