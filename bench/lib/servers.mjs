// Start each server fresh (own port, own data dir), wait until it answers, stop it by PID.
// Also: CPU and RSS of a server process (and its descendants) read from /proc.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { monoMs } from './clock.mjs'

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const REPO_DIR = path.resolve(BENCH_DIR, '..')
export const LISTOK_BIN = process.env.LISTOK_BIN ?? path.join(REPO_DIR, '.venv', 'bin', 'listok')
const CLK_TCK = 100 // getconf CLK_TCK on Linux x86-64/arm64
const PAGE_KB = 4

// name -> how to launch it and where its clients connect
export const SERVERS = {
  listok: { label: 'Listok', kind: 'listok', env: {} },
  'listok-nodurable': { label: 'Listok (no commit-before-broadcast)', kind: 'listok', env: { LISTOK_DURABLE_BROADCAST: '0' } },
  // Listok with its local model loaded and generating back to back during the write window:
  // what the model costs the sync (the issue: fan-out p99 of profile M may move < 20%)
  'listok-model': { label: 'Listok (model generating)', kind: 'listok', env: {}, model: true },
  'y-websocket-server': { label: '@y/websocket-server 0.1.1', kind: 'y-websocket-server', env: {} },
  hocuspocus: { label: '@hocuspocus/server 4.7 (memory)', kind: 'hocuspocus', env: {} }
}
export const DEFAULT_SERVERS = ['listok', 'y-websocket-server', 'hocuspocus']

export function listokAvailable () {
  return fs.existsSync(LISTOK_BIN) && fs.existsSync(path.join(REPO_DIR, 'server', 'app.py'))
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function command (kind, port, dataDir) {
  switch (kind) {
    case 'listok':
      return [LISTOK_BIN, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {}]
    case 'y-websocket-server':
      return [process.execPath, [path.join(BENCH_DIR, 'node_modules', '@y', 'websocket-server', 'src', 'server.js')],
        { HOST: '127.0.0.1', PORT: String(port) }]
    case 'hocuspocus':
      return [process.execPath, [path.join(BENCH_DIR, 'servers', 'hocuspocus.mjs'), String(port)], {}]
    default:
      throw new Error(`unknown server kind ${kind}`)
  }
}

async function waitHttp (url, deadline, child) {
  let lastErr = null
  while (monoMs() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it answered`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (res.ok) return
      lastErr = new Error(`HTTP ${res.status}`)
    } catch (err) {
      lastErr = err
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`server did not answer ${url} in time: ${lastErr}`)
}

// Servers still running when this process exits (an exception, a closed pipe, Ctrl-C) are
// killed by PID, so no run leaves a server behind.
const running = new Set()
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => process.exit(130))

/** Start `name` on a free loopback port; resolves to a handle with pid, urls and stop(). */
export async function startServer (name, { logFile, extraEnv = {}, dataDir = null } = {}) {
  const spec = SERVERS[name]
  if (!spec) throw new Error(`unknown server ${name}`)
  const port = await freePort()
  const ownDataDir = spec.kind === 'listok' && dataDir === null
  const dir = spec.kind === 'listok' ? (dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'listok-bench-'))) : null
  const [cmd, args, env] = command(spec.kind, port, dir)
  const log = fs.openSync(logFile ?? '/dev/null', 'a')
  // Listok's suggestion model (a GGUF of about 1 GB, loaded in a thread at startup when one is
  // cached) is off unless LISTOK_MODEL is set: these benchmarks measure sync, and the model's
  // memory would swamp kB/connection
  // The per-address and per-caller limits (issue 9) are off too: every bench client comes from
  // one address (127.0.0.1), which in a real install would be many households' addresses. The
  // per-token socket cap stays on (64 sockets per link): the hostile mix floods one view token.
  const defaults = spec.kind === 'listok'
    ? {
        LISTOK_MODEL: spec.model ? modelPath() : 'none',
        LISTOK_LIST_CREATIONS_PER_MINUTE: '0',
        LISTOK_REQUESTS_PER_SECOND: '0',
        LISTOK_MAX_SOCKETS_PER_ADDRESS: '0',
        LISTOK_MAX_STREAMS_PER_ADDRESS: '0'
      }
    : {}
  const child = spawn(cmd, args, {
    env: { ...defaults, ...process.env, ...env, ...spec.env, ...extraEnv },
    stdio: ['ignore', log, log]
  })
  fs.closeSync(log)
  running.add(child)
  child.once('exit', () => running.delete(child))
  const base = `http://127.0.0.1:${port}`
  const handle = {
    name,
    label: spec.label,
    kind: spec.kind,
    pid: child.pid,
    port,
    dataDir: dir,
    httpUrl: base,
    wsUrl: `ws://127.0.0.1:${port}/sync`,
    child,
    async stop ({ keepData = false } = {}) {
      await stopChild(child)
      if (ownDataDir && !keepData) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  try {
    await waitHttp(spec.kind === 'listok' ? `${base}/healthz` : base, monoMs() + 30000, child)
  } catch (err) {
    await handle.stop()
    throw err
  }
  return handle
}

function stopChild (child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    child.once('exit', () => { clearTimeout(timer); resolve() })
    child.kill('SIGTERM')
  })
}

/**
 * Create the lists a profile uses. Listok needs them to exist and answers with the owner's
 * token, which its clients then send (y-websocket `params` -> `?token=`). The anchors need
 * nothing: their tokens are null.
 * @returns {Promise<Map<string, string|null>>} list id -> token
 */
let cachedModelPath = null
/** The GGUF `listok serve` would pick (LISTOK_MODEL, else the installed default package). */
function modelPath () {
  if (cachedModelPath === null) {
    const python = path.join(REPO_DIR, '.venv', 'bin', 'python')
    const out = spawnSync(python, ['-m', 'models.model_package', 'path'], { cwd: REPO_DIR, encoding: 'utf8' })
    cachedModelPath = (out.stdout || '').trim()
    if (!cachedModelPath || cachedModelPath === 'none') {
      throw new Error('listok-model needs a model: run `make model` (or set LISTOK_MODEL)')
    }
  }
  return cachedModelPath
}

/**
 * Keeps Listok's model busy until `until` (monotonic ms): dish prompts back to back on one list.
 * @returns {Promise<{requests: number, answered: number, latenciesMs: number[]}>}
 */
export async function modelLoad (server, listId, token, until) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  const url = `${server.httpUrl}/api/lists/${listId}/suggestions`
  const prompts = ['borscht for 6', 'taco night', 'блины на масленицу', 'pancakes for breakfast']
  const out = { requests: 0, answered: 0, latenciesMs: [] }
  while (monoMs() < until) {
    const started = monoMs()
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ prompt: prompts[out.requests % prompts.length] }) })
    await res.arrayBuffer()
    out.requests++
    if (res.status === 200) { out.answered++; out.latenciesMs.push(monoMs() - started) }
    if (res.status !== 200) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return out
}

/** Waits (bounded) until Listok's model has loaded. */
export async function waitModelReady (server, listId, token, deadlineMs = 120000) {
  const until = monoMs() + deadlineMs
  while (monoMs() < until) {
    const res = await fetch(`${server.httpUrl}/api/lists/${listId}/suggestions`, { headers: { authorization: `Bearer ${token}` } })
    const body = await res.json()
    if (body.model !== 'loading') return body.model
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return 'loading'
}

export async function createLists (server, listIds) {
  const tokens = new Map(listIds.map((id) => [id, null]))
  if (server.kind !== 'listok') return tokens
  let next = 0
  const worker = async () => {
    while (next < listIds.length) {
      const id = listIds[next++]
      const res = await fetch(`${server.httpUrl}/api/lists/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `bench ${id.slice(0, 8)}` })
      })
      if (res.status !== 200 && res.status !== 201) {
        throw new Error(`PUT /api/lists/${id} -> ${res.status} ${await res.text()}`)
      }
      tokens.set(id, (await res.json()).token ?? null)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return tokens
}

/** Item count of a list as Listok's JSON API reports it (its persisted view). */
export async function listokItemCount (server, listId, token) {
  const res = await fetch(`${server.httpUrl}/api/lists/${listId}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {}
  })
  if (!res.ok) return NaN
  const body = await res.json()
  return Array.isArray(body.items) ? body.items.length : NaN
}

function descendants (pid) {
  const children = new Map()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(entry))
    } catch { /* the process went away */ }
  }
  const out = [pid]
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []))
  return out
}

/** CPU seconds (user+system) and RSS in kB of pid and its descendants. */
export function readProc (pid) {
  let ticks = 0
  let rssKb = 0
  for (const p of descendants(pid)) {
    try {
      const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8')
      const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ')
      ticks += Number(rest[11]) + Number(rest[12])
      rssKb += Number(rest[21]) * PAGE_KB
    } catch { /* gone */ }
  }
  return { cpuSeconds: ticks / CLK_TCK, rssKb, at: monoMs() }
}

/** Samples RSS every `intervalMs` to find the peak between start() and stop(). */
export class ProcSampler {
  constructor (pid, intervalMs = 200) {
    this.pid = pid
    this.intervalMs = intervalMs
    this.peakRssKb = 0
    this.timer = null
  }

  sample () {
    const s = readProc(this.pid)
    if (s.rssKb > this.peakRssKb) this.peakRssKb = s.rssKb
    return s
  }

  start () {
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    return this
  }

  stop () {
    clearInterval(this.timer)
    return this.sample()
  }
}

/** Listok's Prometheus text: the histograms and counters the benchmark reports. */
export async function listokMetrics (server) {
  try {
    const res = await fetch(`${server.httpUrl}/metrics`)
    if (!res.ok) return null
    return parsePrometheus(await res.text())
  } catch {
    return null
  }
}

export function parsePrometheus (text) {
  const counters = {}
  const buckets = {}
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/)
    if (!m) continue
    const [, name, labels = '', value] = m
    const le = labels.match(/le="([^"]+)"/)
    if (name.endsWith('_bucket') && le) {
      const base = name.slice(0, -'_bucket'.length)
      ;(buckets[base] ??= []).push([le[1] === '+Inf' ? Infinity : Number(le[1]), Number(value)])
    } else if (!labels) {
      counters[name] = Number(value)
    }
  }
  return { counters, buckets }
}

/** Quantile of a cumulative Prometheus histogram, linear inside the bucket (as histogram_quantile). */
export function histogramQuantile (cumulative, q) {
  if (!cumulative?.length) return NaN
  const b = [...cumulative].sort((x, y) => x[0] - y[0])
  const total = b[b.length - 1][1]
  if (!total) return NaN
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const [le, count] of b) {
    if (count >= rank) {
      if (le === Infinity) return prevLe
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(1, count - prevCount))
    }
    prevLe = le
    prevCount = count
  }
  return prevLe
}
