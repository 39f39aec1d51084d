// Driving light generator processes (lib/lightgen.mjs) from an orchestrator, and the CPU
// bookkeeping that says whether a run measured the server or the generators.
import { fork } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { monoMs } from './clock.mjs'
import { readProc } from './servers.mjs'
import { percentile, sortedCopy } from './stats.mjs'

const LIGHTGEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lightgen.mjs')

export class Gen {
  constructor () {
    this.child = fork(LIGHTGEN, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.pid = this.child.pid
    this.waiters = []
    this.child.on('message', (msg) => {
      const w = this.waiters.shift()
      if (!w) return
      if (msg.ev === 'error') w.reject(new Error(`light generator: ${msg.error}`))
      else w.resolve(msg)
    })
    this.child.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`light generator exited with ${code}`))
    })
  }

  call (msg, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`light generator: ${msg.cmd} timed out`)), timeoutMs)
      this.waiters.push({
        resolve: (m) => { clearTimeout(timer); resolve(m) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.child.send(msg)
    })
  }

  async close () {
    await this.call({ cmd: 'close' }, 10000).catch(() => null)
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

/** Client ids of the script slots: one random base per run, far from yjs' random ids' ranges. */
export function slotBase () {
  return 1 + crypto.randomInt(1 << 28)
}

/** CPU seconds of a set of processes (each with its descendants), and the wall clock. */
export function cpuOf (pids) {
  let cpuSeconds = 0
  for (const pid of pids) cpuSeconds += readProc(pid).cpuSeconds
  return { cpuSeconds, at: monoMs() }
}

/** % of one core between two cpuOf() readings. */
export function cpuPct (a, b) {
  return (100 * (b.cpuSeconds - a.cpuSeconds)) / Math.max(1e-9, (b.at - a.at) / 1000)
}

/**
 * Fan-out quantiles where a delivery that never came counts as later than any that did
 * (a server that falls behind fails the p99 rule even though its late updates have no time).
 */
export function fanout (latencies, expected) {
  const s = sortedCopy(latencies)
  const missing = Math.max(0, expected - s.length)
  const n = s.length + missing
  const q = (p) => {
    if (n === 0) return NaN
    const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))
    return rank < s.length ? s[rank] : Infinity
  }
  return { n: s.length, missing, p50: q(50), p95: q(95), p99: q(99), max: missing ? Infinity : percentile(s, 100) }
}

export function concat (arrays) {
  let n = 0
  for (const a of arrays) n += a.length
  const out = new Float64Array(n)
  let off = 0
  for (const a of arrays) { out.set(a, off); off += a.length }
  return out
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export const fmt = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : (x === Infinity ? '∞' : '—'))

export function mdTable (head, rows) {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`)
  ].join('\n')
}

/**
 * How many connections this machine lets one run open: file descriptors of the server process
 * (it inherits our soft limit; Makefile targets raise it with `ulimit -n`) and the loopback
 * ephemeral port range (one port per client socket towards the one server port).
 */
export function connectionLimits () {
  let fds = 1024
  try {
    const m = fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)/)
    if (m) fds = Number(m[1])
  } catch { /* not Linux */ }
  let ports = 28232
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    ports = hi - lo + 1
  } catch { /* not Linux */ }
  return { fds, ports, max: Math.max(100, Math.min(fds - 512, ports - 2000)) }
}

/** Create lists on Listok (the anchors need nothing): [{listId, token}]. */
export async function makeLists (server, n, createLists) {
  const ids = Array.from({ length: n }, () => crypto.randomUUID())
  const tokens = await createLists(server, ids)
  return ids.map((id) => ({ listId: id, token: tokens.get(id) }))
}

/** Busy CPU seconds of the whole machine (all cores, from /proc/stat), to show what others use. */
export function machineCpu () {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const idle = line[3] + (line[4] || 0)
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0)
  return { cpuSeconds: (total - idle) / 100, at: monoMs() }
}
