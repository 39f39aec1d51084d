#!/usr/bin/env node
// Capacity: how many concurrently active households one server carries (issue 14).
//
//   node bench/capacity.mjs [--servers listok,listok-nodurable,hocuspocus,y-websocket-server]
//       [--start 100] [--growth 1.5] [--max-steps 10] [--step-seconds 15] [--speed 10]
//       [--procs 2] [--p99-ms 100] [--sample 64] [--attempts 3] [--presence on|off]
//       [--max-connections N] [--smoke] [--out FILE]
//
// Households of 2-5 people, one list each, presence on, follow lib/scripts.mjs householdScript
// (evenings are adds, a shop visit is a burst of ticks) at `--speed` times real time. The number
// of households grows by `--growth` each step until the fan-out p99 of the updates sent in a
// step passes `--p99-ms` (a delivery still missing 1.5 s after the step counts as later than
// any) or fewer than 99% arrive, in each of `--attempts` windows at that load. Light
// generators (lib/lightgen.mjs) send pre-encoded frames; their CPU and the server's are read
// from /proc: a saturation point where the generators used more CPU than the server is
// reported INVALID.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connectionLimits, cpuOf, machineCpu, cpuPct, fanout, concat, fmt, Gen, makeLists, mdTable, sleep, slotBase } from './lib/lightrun.mjs'
import { rng } from './lib/scripts.mjs'
import { createLists, readProc, SERVERS, startServer } from './lib/servers.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const { values: o } = parseArgs({
  options: {
    servers: { type: 'string', default: 'listok,listok-nodurable,hocuspocus,y-websocket-server' },
    start: { type: 'string', default: '100' },
    growth: { type: 'string', default: '1.5' },
    'max-steps': { type: 'string', default: '10' },
    'step-seconds': { type: 'string', default: '15' },
    speed: { type: 'string', default: '10' },
    procs: { type: 'string', default: '2' },
    'p99-ms': { type: 'string', default: '100' },
    sample: { type: 'string', default: '64' },
    presence: { type: 'string', default: 'on' },
    attempts: { type: 'string', default: '3' },
    'max-connections': { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (o.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 17).join('\n'))
  process.exit(0)
}
if (o.smoke) Object.assign(o, { start: '6', growth: '2', 'max-steps': '2', 'step-seconds': '3' })

const servers = o.servers.split(',')
for (const s of servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}; known: ${Object.keys(SERVERS)}`)
const P = {
  start: Number(o.start),
  growth: Number(o.growth),
  maxSteps: Number(o['max-steps']),
  stepSeconds: Number(o['step-seconds']),
  speed: Number(o.speed),
  procs: Math.max(1, Number(o.procs)),
  p99: Number(o['p99-ms']),
  sample: Number(o.sample),
  attempts: Math.max(1, Number(o.attempts))
}
const limits = connectionLimits()
const maxConnections = Math.min(limits.max, Number(o['max-connections'] ?? Infinity))
const SIZES = [2, 2, 2, 3, 3, 4, 4, 5] // household sizes drawn from this (mean 3.1)
const seed = 20261130

function plan () {
  const counts = []
  let h = P.start
  for (let k = 0; k < P.maxSteps; k++) { counts.push(Math.round(h)); h *= P.growth }
  return counts
}

async function runServer (name, logFile) {
  const server = await startServer(name, { logFile })
  const gens = Array.from({ length: P.procs }, () => new Gen())
  const base = slotBase()
  const rand = rng(seed)
  const steps = []
  const out = { name, steps, verify: null, errors: [], connectFailed: 0, stopReason: 'max steps' }
  try {
    const scriptSeconds = (P.maxSteps * (P.stepSeconds + 30) + 60) * P.speed
    await Promise.all(gens.map((g) => g.call({
      cmd: 'init', url: server.wsUrl, server: server.kind, seed, slotBase: base, speed: P.speed, presence: o.presence !== 'off',
      renewSeconds: 15, sampleEvery: P.sample, scriptSeconds, rate: 1, templates: [2, 3, 4, 5].map((n) => `household:${n}`)
    }, 120000)))
    await Promise.all(gens.map((g) => g.call({ cmd: 'start' })))
    const genPids = gens.map((g) => g.pid)
    let households = 0
    let connections = 0
    let assigned = 0
    for (const [k, target] of plan().entries()) {
      const sizes = Array.from({ length: target - households }, () => SIZES[Math.floor(rand() * SIZES.length)])
      const more = sizes.reduce((a, b) => a + b, 0)
      if (connections + more > maxConnections) { out.stopReason = `connection cap ${maxConnections}`; break }
      await Promise.all(gens.map((g) => g.call({ cmd: 'step', step: 1000 + k })))
      const lists = await makeLists(server, sizes.length, createLists)
      const perGen = gens.map(() => [])
      lists.forEach((l, i) => perGen[assigned++ % gens.length].push({ ...l, template: `household:${sizes[i]}` }))
      const t0 = Date.now()
      const added = await Promise.all(gens.map((g, i) => g.call({ cmd: 'add', households: perGen[i], concurrency: 64, deadlineMs: 120000, startSpread: 2 }, 180000)))
      households = target
      connections += more
      const failed = added.reduce((n, a) => n + a.failed, 0)
      out.connectFailed += failed
      process.stderr.write(`  [${name}] step ${k + 1}: ${households} households, ${connections} connections (connect ${((Date.now() - t0) / 1000).toFixed(1)} s${failed ? `, ${failed} failed` : ''}) ... `)
      await sleep(1000)
      let step = await measure(k, 0)
      for (let a = 1; a < P.attempts && !step.pass && failed === 0 && server.child.exitCode === null; a++) {
        // the machine is shared: a failing window is measured again at the same load, and the
        // step fails only if every window fails (others' bursts are not the server's capacity)
        process.stderr.write(`p99 ${fmt(step.fanout.p99)} ms; again ... `)
        step = await measure(k, a)
      }
      step.failed = failed
      step.pass = step.pass && failed === 0
      steps.push(step)
      process.stderr.write(`p99 ${fmt(step.fanout.p99)} ms, ${Math.round(step.deliveriesPerSec)} deliveries/s, server ${step.serverCpu.toFixed(0)}% / generators ${step.genCpu.toFixed(0)}% CPU, others ${step.othersCpu.toFixed(0)}%, generator loop delay max ${step.loopMaxMs.toFixed(0)} ms${step.pass ? '' : ' -> saturated'}\n`)
      if (server.child.exitCode !== null) { out.stopReason = `server exited (${server.child.exitCode})`; break }
      if (!step.pass) { out.stopReason = step.fanout.p99 > P.p99 ? `p99 > ${P.p99} ms` : (failed ? 'connections failed' : 'fell behind'); break }
    }
    async function measure (k, attempt) {
      const id = k + 100 * attempt
      await Promise.all(gens.map((g) => g.call({ cmd: 'step', step: id })))
      const s0 = cpuOf([server.pid])
      const g0 = cpuOf(genPids)
      const m0 = machineCpu()
      await sleep(P.stepSeconds * 1000)
      const s1 = cpuOf([server.pid])
      const g1 = cpuOf(genPids)
      const m1 = machineCpu()
      await Promise.all(gens.map((g) => g.call({ cmd: 'step', step: 1000 + k + 1 })))
      await sleep(1500) // grace: what arrives later than this counts as missing
      const reports = await Promise.all(gens.map((g) => g.call({ cmd: 'report', step: id })))
      const sent = reports.reduce((n, r) => n + r.sent, 0)
      const expected = reports.reduce((n, r) => n + r.expected, 0)
      const delivered = reports.reduce((n, r) => n + r.delivered, 0)
      const f = fanout(concat(reports.map((r) => r.latencies)), expected)
      const serverCpu = cpuPct(s0, s1)
      const genCpu = cpuPct(g0, g1)
      const step = {
        k,
        households,
        connections,
        updatesPerSec: sent / P.stepSeconds,
        deliveriesPerSec: delivered / P.stepSeconds,
        deliveredPct: expected ? (100 * delivered) / expected : 100,
        fanout: f,
        serverCpu,
        genCpu,
        othersCpu: cpuPct(m0, m1) - serverCpu - genCpu,
        cpuMsPer1000: delivered ? ((s1.cpuSeconds - s0.cpuSeconds) * 1e6) / delivered : NaN,
        rssMb: readProc(server.pid).rssKb / 1024,
        awarenessIn: reports.reduce((n, r) => n + r.counters.awarenessIn, 0),
        closes: reports.reduce((n, r) => n + r.counters.closes, 0),
        loopMaxMs: Math.max(...reports.map((r) => r.loopMaxMs)),
        attempt
      }
      step.pass = f.p99 <= P.p99 && step.deliveredPct >= 99
      return step
    }
    const v = await Promise.all(gens.map((g) => g.call({ cmd: 'verify', deadlineMs: 60000 }, 120000)))
    out.verify = {
      lists: v.reduce((n, r) => n + r.lists, 0),
      listsOk: v.reduce((n, r) => n + r.listsOk, 0),
      lostItems: v.reduce((n, r) => n + r.lostItems, 0),
      wrongItems: v.reduce((n, r) => n + r.wrongItems, 0),
      replicasBehind: v.reduce((n, r) => n + r.replicasBehind, 0),
      sampled: v.reduce((n, r) => n + r.counters.sampled, 0),
      sampleBad: v.reduce((n, r) => n + r.counters.sampleBad, 0),
      parseErrors: v.reduce((n, r) => n + r.counters.parseErrors, 0),
      exhausted: v.reduce((n, r) => n + r.counters.exhausted, 0),
      problems: v.flatMap((r) => [...r.problems, ...r.counters.sampleErrors]).slice(0, 5)
    }
  } catch (err) {
    out.errors.push(String(err?.message ?? err))
  } finally {
    await Promise.all(gens.map((g) => g.close()))
    out.exit = server.child.exitCode
    await server.stop()
  }
  return out
}

function carried (r) {
  const passed = r.steps.filter((s) => s.pass)
  return passed.length ? passed[passed.length - 1] : null
}

function saturation (r) {
  // the step the decision was made on: the first failing one, else the last one run
  return r.steps.find((s) => !s.pass) ?? r.steps[r.steps.length - 1] ?? null
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const resultsDir = path.join(BENCH_DIR, 'results')
const logDir = path.join(resultsDir, 'logs', `capacity-${stamp}`)
fs.mkdirSync(logDir, { recursive: true })
const outFile = o.out ?? path.join(resultsDir, `capacity-${stamp}.md`)

const results = []
for (const name of servers) {
  process.stderr.write(`[capacity] ${name}\n`)
  results.push(await runServer(name, path.join(logDir, `${name}.log`)))
}

const lines = [
  `# Capacity ${stamp}`,
  '',
  `Households of 2-5 (mean 3.1) at ${P.speed}x real time, presence ${o.presence}; start ${P.start} households, x${P.growth} per step, ` +
  `${P.stepSeconds} s per step, ${P.procs} light generator processes; pass: fan-out p99 <= ${P.p99} ms and >= 99% delivered ` +
  `within 1.5 s of the step's end. Connection cap ${maxConnections} (fds ${limits.fds}, ports ${limits.ports}). ` +
  `Machine shared (load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end).`,
  ''
]
const summary = results.map((r) => {
  const c = carried(r)
  const s = saturation(r)
  const valid = s ? s.genCpu < s.serverCpu : false
  return [
    r.name,
    c ? String(c.households) : '0',
    c ? String(c.connections) : '0',
    c ? fmt(c.updatesPerSec, 0) : '—',
    c ? fmt(c.deliveriesPerSec, 0) : '—',
    r.stopReason,
    s ? `${fmt(s.serverCpu, 0)}% / ${fmt(s.genCpu, 0)}% / ${fmt(s.othersCpu, 0)}%` : '—',
    s ? (valid ? 'valid' : 'INVALID (generators used more CPU)') : '—',
    r.verify ? `${r.verify.listsOk}/${r.verify.lists}, lost ${r.verify.lostItems}, wrong ${r.verify.wrongItems}` : (r.errors[0] ?? '—')
  ]
})
lines.push('## Households carried', '', mdTable(
  ['server', `households carried (x${P.speed})`, 'connections', 'updates/s', 'deliveries/s', 'stopped at', 'CPU at saturation: server / generators / other processes', 'validity', 'lists converged'],
  summary), '')
const base = results.find((r) => r.name === 'listok')
if (base) {
  const ratios = results.filter((r) => r !== base).map((r) => {
    const a = carried(base)?.households ?? 0
    const b = carried(r)?.households ?? 0
    return `${base.name}/${r.name} ${b ? (a / b).toFixed(2) : '—'}x`
  })
  if (ratios.length) lines.push(`Households carried, ratios: ${ratios.join('; ')}.`, '')
}
// cost at equal offered load: the largest step every server passed, else the largest every
// server ran (the same households and scripts, so the same offered load)
const passedAll = Math.min(...results.map((r) => r.steps.filter((s) => s.pass).length)) - 1
const common = passedAll >= 0 ? passedAll : Math.min(...results.map((r) => r.steps.length)) - 1
if (common >= 0) {
  const rows = results.map((r) => {
    const s = r.steps[common]
    return [r.name, String(s.households), fmt(s.updatesPerSec, 0), fmt(s.deliveriesPerSec, 0), fmt(s.fanout.p50), fmt(s.fanout.p99),
      s.pass ? 'yes' : 'no', fmt(s.serverCpu, 0), fmt(s.cpuMsPer1000, 1), fmt((100 * s.households) / s.serverCpu, 0), fmt(s.genCpu, 0), fmt(s.rssMb, 0)]
  })
  const b = base?.steps[common]
  lines.push(`## Cost at equal offered load (step ${common + 1}, ${results[0].steps[common].households} households)`, '', mdTable(
    ['server', 'households', 'updates/s', 'deliveries/s', 'fan-out p50 (ms)', 'p99 (ms)', 'passed', 'server CPU (% of a core)', 'server CPU ms per 1,000 deliveries', 'households per core if CPU-bound (projection)', 'generators CPU (%)', 'server RSS (MB)'],
    rows), '')
  if (b) {
    lines.push(`CPU per 1,000 deliveries, ratios: ${results.filter((r) => r !== base).map((r) => `listok/${r.name} ${(b.cpuMsPer1000 / r.steps[common].cpuMsPer1000).toFixed(2)}x`).join('; ')}.`, '')
  }
}
for (const r of results) {
  lines.push(`### ${r.name}: steps`, '', mdTable(
    ['step', 'households', 'connections', 'updates/s', 'deliveries/s', 'delivered %', 'p50', 'p99', 'server CPU %', 'generators CPU %', 'other processes CPU %', 'generator loop delay max (ms)', 'ms CPU / 1k deliveries', 'RSS MB', 'pass'],
    r.steps.map((s) => [String(s.k + 1), String(s.households), String(s.connections), fmt(s.updatesPerSec, 0), fmt(s.deliveriesPerSec, 0),
      fmt(s.deliveredPct, 2), fmt(s.fanout.p50), fmt(s.fanout.p99), fmt(s.serverCpu, 0), fmt(s.genCpu, 0), fmt(s.othersCpu, 0), fmt(s.loopMaxMs, 0), fmt(s.cpuMsPer1000, 1), fmt(s.rssMb, 0), s.pass ? (s.attempt ? `yes (window ${s.attempt + 1})` : 'yes') : `no (${s.attempt + 1} windows)`])), '')
  if (r.verify) {
    lines.push(`Convergence (${r.name}): ${r.verify.listsOk}/${r.verify.lists} lists equal to their script, lost items ${r.verify.lostItems}, ` +
      `wrong items ${r.verify.wrongItems}, replicas behind ${r.verify.replicasBehind}; ${r.verify.sampled} update frames decoded with yjs, ` +
      `${r.verify.sampleBad} wrong; parse errors ${r.verify.parseErrors}` + (r.verify.exhausted ? `; ${r.verify.exhausted} households ran out of script` : '') + '.')
    for (const p of r.verify.problems) lines.push(`- ${p}`)
    lines.push('')
  }
  for (const e of r.errors) lines.push(`- error: ${e}`)
}
const text = lines.join('\n')
fs.writeFileSync(outFile, text)
console.log(text)
console.error(`written: ${path.relative(process.cwd(), outFile)}`)
const bad = results.some((r) => r.errors.length || !r.verify || r.verify.listsOk !== r.verify.lists || r.verify.sampleBad || r.verify.parseErrors)
if (o.smoke) console.log(bad ? 'capacity smoke: FAILED' : 'capacity smoke: passed')
process.exit(o.smoke && bad ? 1 : 0)
