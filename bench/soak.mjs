#!/usr/bin/env node
// Soak and hostile load (issue 9), with the light generators (lib/lightgen.mjs).
//
//   node bench/soak.mjs [--clients 1000] [--lists 100] [--seconds 300] [--rate 0.2]
//       [--hostile] [--servers listok] [--smoke]
//     1,000 clients over 100 lists for 5 minutes; each client writes `rate` items a second,
//     presence on, and churns: online 20-90 s, offline 1-5 s, then back with its state vector
//     (what it wrote meanwhile goes out after the resync). Reports fan-out per 30 s, server RSS
//     at start, middle and end (and every 30 s), /healthz latency, and a full convergence check.
//
//   node bench/soak.mjs --compare [--seconds 30] [--attacks step2,presence,bulk,sockets]
//     Honest clients as profile M (100 lists x 5 clients x 2 writes/s, presence off) on a fresh
//     Listok, once alone and once with the hostile mix (lib/hostile.mjs) running throughout;
//     reports honest fan-out with and without it, lost or diverged items, RSS, /healthz.
//
// Every loop is bounded by the window; every request and socket has a deadline.
import { fork } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { monoMs } from './lib/clock.mjs'
import { concat, connectionLimits, cpuOf, cpuPct, fanout, fmt, Gen, makeLists, mdTable, sleep, slotBase } from './lib/lightrun.mjs'
import { createLists, readProc, SERVERS, startServer } from './lib/servers.mjs'
import { summarize } from './lib/stats.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const { values: o } = parseArgs({
  options: {
    servers: { type: 'string', default: 'listok' },
    clients: { type: 'string' },
    lists: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    bucket: { type: 'string', default: '30' },
    procs: { type: 'string', default: '2' },
    hostile: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    attacks: { type: 'string', default: 'step2,presence,bulk,sockets' },
    'big-mb': { type: 'string', default: '4' },
    victims: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '1' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (o.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 18).join('\n'))
  process.exit(0)
}
const compare = o.compare
const smoke = o.smoke
const defaults = compare
  ? { clients: smoke ? 50 : 500, lists: smoke ? 10 : 100, seconds: smoke ? 6 : 30, rate: 2, presence: false, churn: null, bucket: smoke ? 6 : 30 }
  : { clients: smoke ? 40 : 1000, lists: smoke ? 4 : 100, seconds: smoke ? 8 : 300, rate: smoke ? 1 : 0.2, presence: true, bucket: smoke ? 4 : Number(o.bucket) }
const C = {
  clients: Number(o.clients ?? defaults.clients),
  lists: Number(o.lists ?? defaults.lists),
  seconds: Number(o.seconds ?? defaults.seconds),
  rate: Number(o.rate ?? defaults.rate),
  presence: defaults.presence,
  bucket: Number(o.bucket !== '30' ? o.bucket : defaults.bucket),
  procs: Math.max(1, Number(o.procs)),
  churn: compare ? null : (smoke ? { minOnline: 2, maxOnline: 4, minOffline: 0.3, maxOffline: 1 } : { minOnline: 20, maxOnline: 90, minOffline: 1, maxOffline: 5 })
}
C.perList = Math.max(2, Math.round(C.clients / C.lists))
const H = {
  attacks: o.attacks.split(','),
  bigMb: smoke ? 0.5 : Number(o['big-mb']),
  step2Rate: 50,
  bulkItems: smoke ? 100 : 500,
  heldSockets: smoke ? 10 : 150,
  churnPerSec: 20,
  createsPerSec: 10,
  victims: Number(o.victims)
}
const servers = o.servers.split(',')
for (const s of servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`)
const limits = connectionLimits()
if (C.lists * C.perList > limits.max) throw new Error(`${C.lists * C.perList} connections: over the limit ${limits.max} (ulimit -n / port range)`)

class Hostile {
  constructor () {
    this.child = fork(path.join(BENCH_DIR, 'lib', 'hostile.mjs'), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.pid = this.child.pid
    this.waiters = []
    this.child.on('message', (m) => { const w = this.waiters.shift(); if (w) (m.ev === 'error' ? w.reject(new Error(m.error)) : w.resolve(m)) })
    this.child.on('exit', (code) => { for (const w of this.waiters.splice(0)) w.reject(new Error(`hostile process exited ${code}`)) })
  }

  call (msg, timeoutMs) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`hostile: ${msg.cmd} timed out`)), timeoutMs)
      this.waiters.push({ resolve: (m) => { clearTimeout(t); resolve(m) }, reject: (e) => { clearTimeout(t); reject(e) } })
      this.child.send(msg)
    })
  }

  async close () {
    await this.call({ cmd: 'close' }, 5000).catch(() => null)
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

/** /healthz every 500 ms while the window runs: how long an anonymous reader waits. */
async function probeHealth (server, until) {
  const ms = []
  let failed = 0
  while (monoMs() < until) {
    const t0 = monoMs()
    try {
      const res = await fetch(`${server.httpUrl}/healthz`, { signal: AbortSignal.timeout(30000) })
      await res.arrayBuffer()
      if (res.ok) ms.push(monoMs() - t0)
      else failed++
    } catch { failed++ }
    await sleep(Math.max(0, 500 - (monoMs() - t0)))
  }
  return { ...summarize(ms), failed }
}

async function runOnce (name, { hostile, logFile }) {
  const server = await startServer(name, { logFile })
  const gens = Array.from({ length: C.procs }, () => new Gen())
  const evil = hostile ? new Hostile() : null
  const out = { name, hostile, errors: [], rss: [], buckets: [] }
  try {
    await Promise.all(gens.map((g) => g.call({
      cmd: 'init', url: server.wsUrl, server: server.kind, seed: 7, slotBase: slotBase(), speed: 1, presence: C.presence,
      renewSeconds: 15, sampleEvery: 64, scriptSeconds: C.seconds + 30, rate: C.rate, churn: C.churn, templates: [`steady:${C.perList}`]
    }, 120000)))
    const lists = await makeLists(server, C.lists, createLists)
    if (evil) {
      await evil.call({ cmd: 'init', http: server.httpUrl, ws: server.wsUrl, ...H }, 10000)
      out.setup = await evil.call({ cmd: 'setup' }, 180000)
    }
    const perGen = gens.map(() => [])
    lists.forEach((l, i) => perGen[i % gens.length].push({ ...l, template: `steady:${C.perList}` }))
    const added = await Promise.all(gens.map((g, i) => g.call({ cmd: 'add', households: perGen[i], concurrency: 64, deadlineMs: 120000, startSpread: 1 }, 180000)))
    out.connections = added.reduce((n, a) => n + a.connections, 0)
    out.connectFailed = added.reduce((n, a) => n + a.failed, 0)
    const start = monoMs()
    const until = start + C.seconds * 1000
    await Promise.all(gens.map((g) => g.call({ cmd: 'step', step: 0 })))
    await Promise.all(gens.map((g) => g.call({ cmd: 'start', startSpread: 1 })))
    const health = probeHealth(server, until)
    const attack = evil ? evil.call({ cmd: 'run', seconds: C.seconds, victims: lists.slice(0, H.victims) }, (C.seconds + 240) * 1000) : null
    const s0 = cpuOf([server.pid])
    const g0 = cpuOf(gens.map((g) => g.pid))
    out.rss.push({ t: 0, mb: readProc(server.pid).rssKb / 1024 })
    let bucket = 0
    let nextBucket = start + C.bucket * 1000
    let nextRss = start + 2000
    while (monoMs() < until) {
      await sleep(Math.max(0, Math.min(nextBucket, nextRss, until) - monoMs()))
      const now = monoMs()
      if (now >= nextRss) { out.rss.push({ t: (now - start) / 1000, mb: readProc(server.pid).rssKb / 1024 }); nextRss += 2000 }
      if (now >= nextBucket && now < until) {
        bucket++
        await Promise.all(gens.map((g) => g.call({ cmd: 'step', step: bucket })))
        nextBucket += C.bucket * 1000
      }
      if (server.child.exitCode !== null) { out.errors.push(`server exited (${server.child.exitCode})`); break }
    }
    const s1 = cpuOf([server.pid])
    const g1 = cpuOf(gens.map((g) => g.pid))
    out.rss.push({ t: (monoMs() - start) / 1000, mb: readProc(server.pid).rssKb / 1024 })
    out.serverCpu = cpuPct(s0, s1)
    out.genCpu = cpuPct(g0, g1)
    await Promise.all(gens.map((g) => g.call({ cmd: 'step', step: 999 })))
    out.health = await health
    if (attack) {
      try { out.attacks = (await attack).attacks } catch (err) { out.errors.push(`hostile: ${err.message}`) }
    }
    await sleep(1500)
    for (let b = 0; b <= bucket; b++) {
      const reps = await Promise.all(gens.map((g) => g.call({ cmd: 'report', step: b })))
      const expected = reps.reduce((n, r) => n + r.expected, 0)
      const lat = concat(reps.map((r) => r.latencies))
      out.buckets.push({ b, lat, sent: reps.reduce((n, r) => n + r.sent, 0), expected, delivered: reps.reduce((n, r) => n + r.delivered, 0) })
    }
    const v = await Promise.all(gens.map((g) => g.call({ cmd: 'verify', deadlineMs: 60000 }, 120000)))
    out.verify = {
      lists: v.reduce((n, r) => n + r.lists, 0),
      listsOk: v.reduce((n, r) => n + r.listsOk, 0),
      lostItems: v.reduce((n, r) => n + r.lostItems, 0),
      wrongItems: v.reduce((n, r) => n + r.wrongItems, 0),
      extraItems: v.reduce((n, r) => n + r.extraItems, 0),
      replicasBehind: v.reduce((n, r) => n + r.replicasBehind, 0),
      unsynced: v.reduce((n, r) => n + r.unsynced, 0),
      sampled: v.reduce((n, r) => n + r.counters.sampled, 0),
      sampleBad: v.reduce((n, r) => n + r.counters.sampleBad, 0),
      reconnects: v.reduce((n, r) => n + r.counters.reconnects, 0),
      closes: v.reduce((n, r) => n + r.counters.closes, 0),
      closeCodes: v.map((r) => r.counters.closeCodes),
      resync: v.reduce((n, r) => n + r.counters.resync, 0),
      problems: v.flatMap((r) => [...r.problems, ...r.counters.sampleErrors]).slice(0, 5)
    }
  } catch (err) {
    out.errors.push(String(err?.message ?? err))
  } finally {
    if (evil) await evil.close()
    await Promise.all(gens.map((g) => g.close()))
    out.exit = server.child.exitCode
    await server.stop()
  }
  return out
}

function whole (r) {
  const lat = concat(r.buckets.map((b) => b.lat))
  const expected = r.buckets.reduce((n, b) => n + b.expected, 0)
  // with churn a receiver may leave before an update reaches it: it gets it on resync (counted
  // there), so the soak's fan-out is over live deliveries; without churn a missing one is late
  return { f: C.churn ? { ...summarize(lat), missing: Math.max(0, expected - lat.length) } : fanout(lat, expected), sent: r.buckets.reduce((n, b) => n + b.sent, 0) }
}

const rssAt = (r, frac) => {
  if (!r.rss.length) return NaN
  const t = frac * C.seconds
  return r.rss.reduce((best, x) => (Math.abs(x.t - t) < Math.abs(best.t - t) ? x : best)).mb
}

function verifyCell (r) {
  const v = r.verify
  if (!v) return r.errors[0] ?? '—'
  return `${v.listsOk}/${v.lists} lists equal; lost ${v.lostItems}, wrong ${v.wrongItems}, extra ${v.extraItems}; replicas behind ${v.replicasBehind}`
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const resultsDir = path.join(BENCH_DIR, 'results')
const logDir = path.join(resultsDir, 'logs', `soak-${stamp}`)
fs.mkdirSync(logDir, { recursive: true })
const outFile = o.out ?? path.join(resultsDir, `${compare ? 'hostile' : 'soak'}-${stamp}.md`)
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const lines = []
let bad = false

if (compare) {
  lines.push(`# Hostile mix ${stamp}`, '',
    `Honest: ${C.lists} lists x ${C.perList} clients, ${C.rate} writes/s each, presence off, ${C.seconds} s window (profile M); ` +
    `hostile: ${H.attacks.join(', ')} (big list ${H.bigMb} MB, step 2 at ${H.step2Rate}/s, bulk ${H.bulkItems} items a request, ` +
    `${H.heldSockets} held sockets, ${H.churnPerSec} socket churns/s, ${H.createsPerSec} list creations/s, presence flood on ${H.victims} honest lists). ` +
    `Fresh server per run; machine shared (load average ${load()}).`, '')
  const rows = []
  const detail = []
  const repeat = Math.max(1, Number(o.repeat))
  for (const name of servers) {
    const runs = []
    for (let i = 0; i < repeat; i++) {
      for (const hostile of [false, true]) {
        process.stderr.write(`[hostile] ${name} ${i + 1}/${repeat} ${hostile ? 'with' : 'without'} the hostile mix ... `)
        const r = await runOnce(name, { hostile, logFile: path.join(logDir, `${name}-${i + 1}-${hostile ? 'hostile' : 'honest'}.log`) })
        const w = whole(r)
        process.stderr.write(`p99 ${fmt(w.f.p99)} ms, ${verifyCell(r)}\n`)
        runs.push({ r, w })
        if (r.errors.length || !r.verify) bad = true
      }
    }
    for (const { r, w } of runs) {
      rows.push([name, r.hostile ? 'with hostile mix' : 'honest only', String(w.sent), fmt(w.f.p50), fmt(w.f.p99), fmt(w.f.max), String(w.f.missing),
        verifyCell(r), `${fmt(rssAt(r, 0), 0)} / ${fmt(rssAt(r, 0.5), 0)} / ${fmt(rssAt(r, 1), 0)}`, fmt(r.serverCpu, 0),
        `${fmt(r.health?.p50)} / ${fmt(r.health?.max)}`])
    }
    const med = (xs) => { const v = xs.filter(Number.isFinite).sort((a, b) => a - b); return v.length ? v[Math.floor((v.length - 1) / 2)] : (xs.length ? Infinity : NaN) }
    const p99Honest = med(runs.filter((x) => !x.r.hostile).map((x) => x.w.f.p99))
    const p99Hostile = med(runs.filter((x) => x.r.hostile).map((x) => x.w.f.p99))
    detail.push(`${name}: honest fan-out p99, median of ${repeat}: ${fmt(p99Honest)} ms without, ${fmt(p99Hostile)} ms with the hostile mix: ${fmt(p99Hostile / p99Honest, 2)}x (goal: moves < 20%).`)
    const b = runs.filter((x) => x.r.hostile).at(-1)
    if (b?.r.setup) detail.push(`Set-up of the attacker's lists: ${fmt(b.r.setup.seconds, 1)} s (big list ${b.r.setup.bigMb} MB in ${b.r.setup.bigItems} items).`)
    if (b?.r.attacks) {
      detail.push('', mdTable(['attack (last hostile run)', 'done', 'failed', 'closes / statuses', 'request p50 / max (ms)', 'notes'],
        Object.entries(b.r.attacks).map(([k, s]) => [k, String(s.ok), String(s.failed), JSON.stringify(s.closes), `${fmt(s.p50ms, 0)} / ${fmt(s.maxMs, 0)}`, s.notes.join('; ')])))
    }
    for (const { r } of runs) for (const e of r.errors) detail.push(`- ${r.hostile ? 'hostile' : 'honest'} run: ${e}`)
  }
  lines.push(mdTable(['server', 'run', 'honest updates sent', 'fan-out p50 (ms)', 'p99 (ms)', 'max (ms)', 'deliveries missing 1.5 s after the window', 'convergence', 'server RSS start / middle / end (MB)', 'server CPU (%)', '/healthz p50 / max (ms)'], rows), '', ...detail, '')
} else {
  lines.push(`# Soak ${stamp}`, '',
    `${C.lists} lists x ${C.perList} clients (${C.lists * C.perList}), ${C.rate} writes/s each, presence on, ${C.seconds} s; churn: online ` +
    `${C.churn.minOnline}-${C.churn.maxOnline} s, offline ${C.churn.minOffline}-${C.churn.maxOffline} s${o.hostile ? `; hostile mix on (${H.attacks.join(', ')})` : ''}. ` +
    `Machine shared (load average ${load()}).`, '')
  for (const name of servers) {
    process.stderr.write(`[soak] ${name} (${C.seconds} s) ... `)
    const r = await runOnce(name, { hostile: o.hostile, logFile: path.join(logDir, `${name}.log`) })
    const w = whole(r)
    process.stderr.write(`p99 ${fmt(w.f.p99)} ms, ${verifyCell(r)}\n`)
    if (r.errors.length || !r.verify || r.verify.listsOk !== r.verify.lists || r.verify.replicasBehind || r.verify.sampleBad) bad = true
    lines.push(`## ${name}`, '', mdTable(['window', 'updates sent', 'live deliveries', 'fan-out p50 (ms)', 'p99 (ms)', 'max (ms)'],
      r.buckets.map((b) => { const s = summarize(b.lat); return [`${b.b * C.bucket}-${Math.min(C.seconds, (b.b + 1) * C.bucket)} s`, String(b.sent), String(b.lat.length), fmt(s.p50), fmt(s.p99), fmt(s.max)] })), '')
    lines.push(`Whole run: ${w.sent} updates, fan-out p50 ${fmt(w.f.p50)} ms, p99 ${fmt(w.f.p99)} ms; ${w.f.missing} live deliveries missed (the receiver had left; recovered on resync: ${r.verify?.resync ?? '—'} ops came by step 2); ` +
      `${r.verify?.reconnects ?? '—'} reconnects, ${r.verify?.closes ?? '—'} closes not asked for ${JSON.stringify(r.verify?.closeCodes?.reduce((a, c) => ({ ...a, ...c }), {}) ?? {})}.`, '')
    lines.push(`Server RSS (MB): start ${fmt(rssAt(r, 0), 0)}, middle ${fmt(rssAt(r, 0.5), 0)}, end ${fmt(rssAt(r, 1), 0)}; every ${C.bucket} s: ` +
      r.rss.filter((x, i) => i === 0 || Math.floor(x.t / C.bucket) !== Math.floor(r.rss[i - 1].t / C.bucket)).map((x) => `${x.t.toFixed(0)} s ${x.mb.toFixed(0)}`).join(', ') + '.', '')
    lines.push(`Server CPU ${fmt(r.serverCpu, 0)}% of a core, generators ${fmt(r.genCpu, 0)}%; /healthz p50 ${fmt(r.health?.p50)} ms, max ${fmt(r.health?.max)} ms (${r.health?.failed ?? '—'} failed).`, '')
    lines.push(`Convergence: ${verifyCell(r)}; ${r.verify?.sampled ?? 0} update frames decoded with yjs, ${r.verify?.sampleBad ?? '—'} wrong.`, '')
    if (r.attacks) lines.push(mdTable(['attack', 'done', 'failed', 'closes / statuses'], Object.entries(r.attacks).map(([k, s]) => [k, String(s.ok), String(s.failed), JSON.stringify(s.closes)])), '')
    for (const p of r.verify?.problems ?? []) lines.push(`- ${p}`)
    for (const e of r.errors) lines.push(`- error: ${e}`)
  }
}
const text = lines.join('\n')
fs.writeFileSync(outFile, text)
console.log(text)
console.error(`written: ${path.relative(process.cwd(), outFile)}`)
if (smoke) console.log(bad ? 'soak smoke: FAILED' : 'soak smoke: passed')
process.exit(smoke && bad ? 1 : 0)
