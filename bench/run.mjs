#!/usr/bin/env node
// Listok load benchmarks against @y/websocket-server and @hocuspocus/server.
//
//   node bench/run.mjs [--profiles S,S0,M,T,C] [--servers listok,y-websocket-server,hocuspocus]
//                      [--repeat N] [--procs N] [--smoke] [--out FILE] [--drain SECONDS] [--pyspy]
//
// Every server is started fresh for every profile and repeat, and stopped by PID. Output: one
// markdown table per profile, printed and written to bench/results/<timestamp>.md.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { DEFAULT_PROFILES, PROFILES } from './lib/profiles.mjs'
import { profileTable } from './lib/report.mjs'
import { summarizeCollapsed } from './lib/pyspy.mjs'
import { runProfile } from './lib/runner.mjs'
import { DEFAULT_SERVERS, listokAvailable, SERVERS } from './lib/servers.mjs'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))

const { values: opts } = parseArgs({
  options: {
    profiles: { type: 'string' },
    servers: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    procs: { type: 'string', default: '3' },
    drain: { type: 'string', default: '30' },
    verify: { type: 'string', default: '5' },
    smoke: { type: 'boolean', default: false },
    pyspy: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (opts.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 9).join('\n'))
  process.exit(0)
}

const profiles = opts.smoke ? ['smoke'] : (opts.profiles?.split(',') ?? DEFAULT_PROFILES)
let servers = opts.servers?.split(',') ?? DEFAULT_SERVERS
for (const p of profiles) if (!PROFILES[p]) throw new Error(`unknown profile ${p}; known: ${Object.keys(PROFILES)}`)
for (const s of servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}; known: ${Object.keys(SERVERS)}`)
if (!opts.servers && !listokAvailable()) {
  console.error('note: Listok is not installed here (.venv/bin/listok, server/app.py); running the anchors only')
  servers = servers.filter((s) => SERVERS[s].kind !== 'listok')
}
const repeat = Math.max(1, Number(opts.repeat))
const procs = Math.max(1, Number(opts.procs))

const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
const resultsDir = path.join(BENCH_DIR, 'results')
const logDir = path.join(resultsDir, 'logs', stamp)
fs.mkdirSync(logDir, { recursive: true })
const outFile = opts.out ?? path.join(resultsDir, `${stamp}.md`)

const labels = Object.fromEntries(Object.entries(SERVERS).map(([k, v]) => [k, `${k}`]))
const sections = [
  `# Listok benchmarks ${stamp}`,
  '',
  `Node ${process.version}; ${procs} load-generator processes; repeat ${repeat} (medians, [min–max]); ` +
  `servers: ${servers.map((s) => `${s} = ${SERVERS[s].label}`).join('; ')}.`,
  'Fan-out: from the write on one client to its observation on another, one clock (CLOCK_MONOTONIC).',
  ''
]

let failures = 0
const profiles_ = []
for (const profileName of profiles) {
  const profile = PROFILES[profileName]
  const runsByServer = new Map(servers.map((s) => [s, []]))
  for (let r = 0; r < repeat; r++) {
    // rotate the order each repeat, so no server always runs first (or last) on a warm machine
    const order = servers.map((_, i) => servers[(i + r) % servers.length])
    for (const serverName of order) {
      const logFile = path.join(logDir, `${profileName}-${serverName}-${r + 1}.log`)
      process.stderr.write(`[${profileName} ${r + 1}/${repeat}] ${serverName} ... `)
      const t0 = Date.now()
      const pyspy = opts.pyspy ? path.join(resultsDir, `${stamp}-pyspy-${profileName}-${serverName}-${r + 1}.txt`) : null
      const m = await runProfile({
        profile, serverName, procs, logFile, drainSeconds: Number(opts.drain), verifyLists: Number(opts.verify), pyspy
      })
      if (m.pyspy?.file) profiles_.push(`#### py-spy: ${profileName}, ${serverName}, run ${r + 1}\n\n${summarizeCollapsed(m.pyspy.file)}`)
      else if (m.pyspy?.error) profiles_.push(`py-spy failed: ${m.pyspy.error}\n`)
      m.crashed = m.serverExit !== null && m.serverExit !== undefined
      runsByServer.get(serverName).push(m)
      const bad = m.errors.length > 0 || m.converged === false || m.crashed || m.connectFailed > 0
      if (bad) failures++
      process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s` +
        (m.fanout ? `, fan-out p99 ${m.fanout.p99.toFixed(1)} ms, ${Math.round(m.deliveriesPerSec)} deliveries/s` : '') +
        (profile.rate === 0 ? `, ${m.kbPerConnection.toFixed(1)} kB/connection` : '') +
        (bad ? ' (PROBLEM: see table notes)' : '') + '\n')
    }
  }
  const table = profileTable(profileName, profile, runsByServer, labels)
  sections.push(table)
  console.log(table)
  for (const p of profiles_.splice(0)) { sections.push(p); console.log(p) }
}

fs.writeFileSync(outFile, sections.join('\n'))
console.error(`written: ${path.relative(process.cwd(), outFile)} (server logs in ${path.relative(process.cwd(), logDir)})`)
if (opts.smoke) {
  // the smoke run is a check: every server synced every client and converged
  console.log(failures === 0 ? 'smoke: 1 passed, 0 failed' : `smoke: 0 passed, 1 failed (${failures} problem runs)`)
  process.exit(failures === 0 ? 0 : 1)
}
process.exit(0)
