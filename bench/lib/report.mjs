// Markdown tables: one per profile, servers side by side, Listok/anchor ratios, medians over repeats.
import { median } from './stats.mjs'

const get = (m, key) => key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), m)

// [key, label, decimals, rowsFor] — rowsFor: 'write' rows only for profiles with writes
const ROWS = [
  ['connections', 'connections', 0, 'all'],
  ['connectFailed', 'connections not synced', 0, 'all'],
  ['sync.p50', 'connect+sync p50 (ms)', 1, 'all'],
  ['sync.p95', 'connect+sync p95 (ms)', 1, 'all'],
  ['fanout.p50', 'fan-out p50 (ms)', 1, 'write'],
  ['fanout.p95', 'fan-out p95 (ms)', 1, 'write'],
  ['fanout.p99', 'fan-out p99 (ms)', 1, 'write'],
  ['fanout.max', 'fan-out max (ms)', 1, 'write'],
  ['serverFanoutP50Ms', 'Listok /metrics: arrival -> broadcast p50 (ms)', 1, 'write'],
  ['serverFanoutP99Ms', 'Listok /metrics: arrival -> broadcast p99 (ms)', 1, 'write'],
  ['commitP50Ms', 'Listok /metrics: store commit p50 (ms)', 1, 'write'],
  ['commitP99Ms', 'Listok /metrics: store commit p99 (ms)', 1, 'write'],
  ['updatesPerCommit', 'Listok /metrics: updates per commit', 1, 'write'],
  ['modelAnswered', 'model prompts answered during the window (listok-model)', 0, 'write'],
  ['modelP50Ms', 'model prompt p50 (ms, listok-model)', 0, 'write'],
  ['writes', 'writes', 0, 'write'],
  ['offeredPerSec', 'deliveries/s offered', 0, 'write'],
  ['deliveriesPerSec', 'deliveries/s achieved', 0, 'write'],
  ['deliveredPct', 'delivered (%)', 2, 'write'],
  ['converged', 'converged (runs)', null, 'write'],
  ['framesPerDelivery', 'frames received per delivery (all types)', 2, 'write'],
  ['updateFramesPerDelivery', 'update frames per delivery', 2, 'write'],
  ['rxMb', 'bytes received by clients (MB)', 1, 'write'],
  ['disconnects', 'client disconnects', 0, 'write'],
  ['serverCpuPct', 'server CPU (% of one core)', 0, 'write'],
  ['clientCpuPct', 'load generators CPU (% of one core)', 0, 'write'],
  ['loopDelayP99Ms', 'load generator event-loop delay p99 (ms, worst process)', 1, 'write'],
  ['rssPeakMb', 'server RSS peak (MB)', 1, 'all'],
  ['kbPerConnection', 'server kB/connection', 1, 'all'],
  ['loadavg', 'machine load average (1 min) at the end', 1, 'all']
]

const fmt = (x, d) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—')

function cell (runs, key, d) {
  if (key === 'converged') {
    const ok = runs.filter((r) => r.converged === true).length
    return { text: `${ok}/${runs.length}`, value: NaN }
  }
  const vals = runs.map((r) => get(r, key)).filter((x) => typeof x === 'number' && Number.isFinite(x))
  const med = median(vals)
  if (vals.length > 1) {
    return { text: `${fmt(med, d)} [${fmt(Math.min(...vals), d)}–${fmt(Math.max(...vals), d)}]`, value: med }
  }
  return { text: fmt(med, d), value: med }
}

/**
 * @param {string} profileName
 * @param {object} profile
 * @param {Map<string, object[]>} runsByServer  server name -> metrics of each repeat
 * @param {Record<string,string>} labels
 */
export function profileTable (profileName, profile, runsByServer, labels) {
  const servers = [...runsByServer.keys()]
  const base = servers.find((s) => s === 'listok')
  const anchors = base ? servers.filter((s) => s !== base) : []
  const writes = profile.rate > 0
  const head = ['metric', ...servers.map((s) => labels[s] ?? s), ...anchors.map((a) => `${base}/${a}`)]
  const lines = [
    `### ${profileName}: ${profile.title}`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`
  ]
  for (const [key, label, d, rowsFor] of ROWS) {
    if (rowsFor === 'write' && !writes) continue
    const cells = servers.map((s) => cell(runsByServer.get(s), key, d))
    const ratios = anchors.map((a) => {
      const num = cells[servers.indexOf(base)].value
      const den = cells[servers.indexOf(a)].value
      return Number.isFinite(num) && Number.isFinite(den) && den !== 0 ? `${(num / den).toFixed(2)}x` : '—'
    })
    lines.push(`| ${label} | ${cells.map((c) => c.text).join(' | ')} | ${ratios.join(' | ')}`.replace(/ \| $/, '') + ' |')
  }
  const errors = []
  for (const s of servers) {
    for (const [i, r] of runsByServer.get(s).entries()) {
      for (const e of r.errors ?? []) errors.push(`- ${s} run ${i + 1}: ${e}`)
      if (r.crashed) errors.push(`- ${s} run ${i + 1}: server exited during the run (code ${r.serverExit})`)
      if (r.converged === false) {
        errors.push(`- ${s} run ${i + 1}: not converged (replicas incomplete ${r.incomplete}, lists diverged ${r.diverged}, ` +
          `lists missing items ${r.missing}, late joiner mismatches ${r.lateMismatch}` +
          (r.apiMismatch !== undefined ? `, API item-count mismatches ${r.apiMismatch})` : ')'))
      }
    }
  }
  if (errors.length) lines.push('', ...errors)
  lines.push('')
  return lines.join('\n')
}
