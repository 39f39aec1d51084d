// Summaries of py-spy's raw (collapsed) output: "[thread;]frame;frame;...;leaf count" per line,
// root first. Prints where the samples go: per thread, per package (by leaf frame), the hottest
// leaf frames, and the hottest frames of our own code (server/, store/) inclusive of callees.
import fs from 'node:fs'

const isThread = (f) => /^(thread|process) /.test(f)
const fileOf = (frame) => (frame.match(/\(([^():]+)(?::\d+)?\)$/)?.[1] ?? '?')
function groupOf (frame) {
  const file = fileOf(frame)
  if (file.startsWith('server/') || file.startsWith('store/')) return file.split('/')[0] + '/ (Listok)'
  const top = file.split('/')[0].replace(/\.py$/, '')
  return top
}

function table (map, total, title, top) {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
  return [`| ${title} | samples | % |`, '| --- | ---: | ---: |',
    ...rows.map(([f, n]) => `| \`${f.replace(/\|/g, '\\|')}\` | ${n} | ${(100 * n / total).toFixed(1)} |`)].join('\n')
}

export function summarizeCollapsed (file, top = 15) {
  const threads = new Map()
  const self = new Map()
  const groups = new Map()
  const ours = new Map()
  let total = 0
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const cut = line.lastIndexOf(' ')
    if (cut <= 0) continue
    const n = Number(line.slice(cut + 1))
    if (!Number.isFinite(n)) continue
    let frames = line.slice(0, cut).split(';')
    let thread = 'all'
    if (isThread(frames[0])) { thread = frames[0]; frames = frames.slice(1) }
    // name a thread by its outermost interesting frame
    const named = frames.find((f) => /Writer\._run|run_forever|to_thread|_worker/.test(f))
    thread = named ? `${thread.split(' ')[0]} ${named.split(' ')[0]}` : thread
    total += n
    threads.set(thread, (threads.get(thread) ?? 0) + n)
    if (frames.length === 0) continue
    const leaf = frames[frames.length - 1]
    self.set(leaf, (self.get(leaf) ?? 0) + n)
    groups.set(groupOf(leaf), (groups.get(groupOf(leaf)) ?? 0) + n)
    for (const f of new Set(frames.filter((f) => /\((server|store)\//.test(f)))) ours.set(f, (ours.get(f) ?? 0) + n)
  }
  return `${total} samples (py-spy, 200 Hz, non-idle samples of all threads)\n\n` +
    table(threads, total, 'thread', top) + '\n\n' +
    table(groups, total, 'package of the leaf frame', top) + '\n\n' +
    table(self, total, 'leaf frame (self time)', top) + '\n\n' +
    table(ours, total, 'Listok frame (inclusive)', top) + '\n'
}

if (process.argv[1] && process.argv[1].endsWith('pyspy.mjs') && process.argv[2]) {
  console.log(summarizeCollapsed(process.argv[2], Number(process.argv[3] ?? 20)))
}
