// Runs one profile against one server: fresh server, forked load generators, bounded phases.
import { fork, spawn } from 'node:child_process'
import fs from 'node:fs'
import crypto from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { monoMs } from './clock.mjs'
import { createLists, histogramQuantile, listokItemCount, listokMetrics, modelLoad, ProcSampler, readProc, SERVERS, startServer, waitModelReady } from './servers.mjs'
import { concatFloat64, summarize } from './stats.mjs'

const LOADGEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loadgen.mjs')

class Loadgen {
  constructor () {
    this.child = fork(LOADGEN, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.waiters = []
    this.child.on('message', (msg) => {
      const w = this.waiters.shift()
      if (!w) return
      if (msg.ev === 'error') w.reject(new Error(`load generator: ${msg.error}`))
      else w.resolve(msg)
    })
    this.child.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`load generator exited with ${code}`))
    })
  }

  call (msg, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator: ${msg.cmd} timed out`)), timeoutMs)
      this.waiters.push({
        resolve: (m) => { clearTimeout(timer); resolve(m) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.child.send(msg)
    })
  }

  kill () {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

function plan (profile, procs, listIds, tokens) {
  const perProc = Array.from({ length: procs }, () => [])
  let k = 0
  for (const listId of listIds) {
    for (let i = 0; i < profile.clientsPerList; i++) {
      // spread each list's clients over the processes, so fan-out crosses process boundaries
      perProc[k++ % procs].push({ listId, token: tokens.get(listId), index: i, writer: profile.rate > 0 })
    }
  }
  return perProc.filter((p) => p.length > 0)
}

/**
 * @returns {Promise<object>} the metrics of one run (see report.mjs for their names)
 */
export async function runProfile ({ profile, serverName, procs, logFile, drainSeconds, verifyLists, extraEnv, pyspy }) {
  const server = await startServer(serverName, { logFile, extraEnv })
  const listIds = Array.from({ length: profile.lists }, () => crypto.randomUUID())
  const metrics = { server: serverName, pid: server.pid, errors: [] }
  const sampler = new ProcSampler(server.pid).start()
  let gens = []
  try {
    const tokens = await createLists(server, listIds)
    const perProc = plan(profile, procs, listIds, tokens)
    gens = perProc.map(() => new Loadgen())
    const before = readProc(server.pid)
    const connectDeadlineMs = 60000
    const connected = await Promise.all(gens.map((g, i) => g.call({
      cmd: 'connect',
      clients: perProc[i],
      url: server.wsUrl,
      server: server.kind,
      presence: profile.presence,
      concurrency: 50,
      deadlineMs: connectDeadlineMs
    }, connectDeadlineMs + 10000)))
    const conns = perProc.reduce((n, p) => n + p.length, 0)
    metrics.connections = conns
    metrics.connectFailed = connected.reduce((n, c) => n + c.failed, 0)
    metrics.sync = summarize(concatFloat64(connected.map((c) => c.syncMs)))

    if (profile.rate === 0) {
      // idle connections: let the server settle, then take memory per connection
      const holdUntil = monoMs() + (profile.holdSeconds ?? 2) * 1000
      while (monoMs() < holdUntil) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const afterConnect = sampler.sample()
    metrics.kbPerConnection = (afterConnect.rssKb - before.rssKb) / conns
    metrics.rssBaselineMb = before.rssKb / 1024

    const withModel = Boolean(SERVERS[serverName].model)
    if (withModel) metrics.modelState = await waitModelReady(server, listIds[0], tokens.get(listIds[0]))

    if (profile.rate > 0) {
      const startAt = monoMs() + 300
      const load = withModel ? modelLoad(server, listIds[0], tokens.get(listIds[0]), startAt + profile.seconds * 1000) : null
      const spy = pyspy && server.kind === 'listok' ? startPySpy(server.pid, pyspy, profile.seconds + 2) : null
      const cpuStart = readProc(server.pid)
      const written = await Promise.all(gens.map((g) => g.call({
        cmd: 'write', startAt, seconds: profile.seconds, rate: profile.rate, presence: profile.presence
      }, (profile.seconds + 15) * 1000)))
      if (load) {
        const done = await load
        metrics.modelRequests = done.requests
        metrics.modelAnswered = done.answered
        metrics.modelP50Ms = done.latenciesMs.length ? summarize(done.latenciesMs).p50 : null
      }
      const expected = {}
      for (const w of written) for (const [id, n] of Object.entries(w.writes)) expected[id] = (expected[id] ?? 0) + n
      const writes = Object.values(expected).reduce((a, b) => a + b, 0)
      const drained = await Promise.all(gens.map((g) => g.call({
        cmd: 'drain', expected, deadlineMs: drainSeconds * 1000
      }, drainSeconds * 1000 + 10000)))
      const cpuEnd = readProc(server.pid)
      if (spy) metrics.pyspy = await spy
      if (server.kind === 'listok') {
        // the server's own view: commit latency of the store under this load, updates per commit,
        // and arrival -> broadcast time (includes the commit); from GET /metrics
        const pm = await listokMetrics(server)
        if (pm) {
          const ms = (name, q) => 1000 * histogramQuantile(pm.buckets[name], q)
          metrics.commitP50Ms = ms('listok_commit_seconds', 0.5)
          metrics.commitP99Ms = ms('listok_commit_seconds', 0.99)
          metrics.serverFanoutP50Ms = ms('listok_fanout_seconds', 0.5)
          metrics.serverFanoutP99Ms = ms('listok_fanout_seconds', 0.99)
          const updates = pm.counters.listok_updates_total ?? pm.counters.listok_updates
          const commits = pm.counters.listok_commits_total ?? pm.counters.listok_commits
          metrics.updatesPerCommit = updates / commits
        }
      }
      const reports = await Promise.all(gens.map((g) => g.call({ cmd: 'report' }, 60000)))

      const lat = concatFloat64(reports.map((r) => r.latencies))
      metrics.fanout = summarize(lat)
      const receivers = profile.clientsPerList - 1
      metrics.writes = writes
      metrics.expectedDeliveries = writes * receivers
      metrics.deliveries = reports.reduce((n, r) => n + r.deliveries, 0)
      const lastDelivery = Math.max(...reports.map((r) => r.lastDeliveryAt))
      metrics.offeredPerSec = (writes * receivers) / profile.seconds
      metrics.deliveriesPerSec = metrics.deliveries / ((lastDelivery - startAt) / 1000)
      metrics.deliveredPct = (100 * metrics.deliveries) / metrics.expectedDeliveries
      metrics.incomplete = drained.reduce((n, d) => n + d.incomplete, 0)
      const frames = reports.reduce((n, r) => n + r.frames.received, 0)
      metrics.framesPerDelivery = frames / Math.max(1, metrics.deliveries)
      metrics.updateFramesPerDelivery = reports.reduce((n, r) => n + r.frames.updates, 0) / Math.max(1, metrics.deliveries)
      metrics.rxMb = reports.reduce((n, r) => n + r.frames.bytes, 0) / 1e6
      metrics.disconnects = reports.reduce((n, r) => n + r.disconnects, 0)
      metrics.loopDelayP99Ms = Math.max(...reports.map((r) => r.loopDelayP99Ms))
      metrics.clientCpuPct = reports.reduce((n, r) => n + (r.cpuPercent || 0), 0)
      metrics.serverCpuPct = (100 * (cpuEnd.cpuSeconds - cpuStart.cpuSeconds)) / ((cpuEnd.at - cpuStart.at) / 1000)

      // convergence: every replica of a list has the same digest and the expected item count,
      // and a late joiner syncing from the server alone gets that same digest
      const byList = new Map()
      for (const r of reports) for (const rep of r.replicas) {
        if (!byList.has(rep.listId)) byList.set(rep.listId, [])
        byList.get(rep.listId).push(rep)
      }
      let diverged = 0
      let missing = 0
      for (const [id, reps] of byList) {
        if (new Set(reps.map((r) => r.hash)).size !== 1) diverged++
        if (reps.some((r) => r.size !== expected[id])) missing++
      }
      const sample = listIds.slice(0, verifyLists)
      const verified = await gens[0].call({ cmd: 'verify', lists: sample.map((id) => ({ listId: id, token: tokens.get(id) })), url: server.wsUrl, server: server.kind, deadlineMs: 15000 }, 30000)
      let lateMismatch = 0
      for (const v of verified.lists) {
        const reps = byList.get(v.listId) ?? []
        if (!v.synced || reps.length === 0 || v.hash !== reps[0].hash) lateMismatch++
      }
      if (server.kind === 'listok') {
        let apiMismatch = 0
        for (const id of sample) if ((await listokItemCount(server, id, tokens.get(id))) !== expected[id]) apiMismatch++
        metrics.apiMismatch = apiMismatch
      }
      metrics.diverged = diverged
      metrics.missing = missing
      metrics.lateMismatch = lateMismatch
      metrics.converged = diverged === 0 && missing === 0 && lateMismatch === 0 && metrics.incomplete === 0 &&
        (metrics.apiMismatch ?? 0) === 0
    }
    metrics.loadavg = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
    const end = sampler.stop()
    metrics.rssPeakMb = sampler.peakRssKb / 1024
    metrics.rssEndMb = end.rssKb / 1024
  } catch (err) {
    metrics.errors.push(String(err?.message ?? err))
    sampler.stop()
  } finally {
    await Promise.all(gens.map((g) => g.call({ cmd: 'close' }, 10000).catch(() => null)))
    for (const g of gens) g.kill()
    metrics.serverExit = server.child.exitCode
    await server.stop()
  }
  return metrics
}

/** py-spy (pip install py-spy) samples the Listok server through the write phase: collapsed stacks. */
function startPySpy (pid, file, seconds) {
  return new Promise((resolve) => {
    const venv = path.resolve(path.dirname(LOADGEN), '..', '..', '.venv', 'bin', 'py-spy')
    const bin = process.env.PYSPY_BIN ?? (fs.existsSync(venv) ? venv : 'py-spy')
    const child = spawn(bin, ['record', '--pid', String(pid), '--duration', String(Math.ceil(seconds)),
      '--rate', '200', '--format', 'raw', '--threads', '--output', file, '--nonblocking'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => { err += d })
    child.on('error', (e) => resolve({ file: null, error: String(e) }))
    child.on('exit', (code) => resolve(code === 0 ? { file } : { file: null, error: err.trim().split('\n').pop() }))
  })
}
