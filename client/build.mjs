// Builds client/dist: index.html, the hashed bundle and stylesheet, the web manifest, icons
// (drawn here, no image tools needed) and the service worker that caches the app shell.
import * as esbuild from 'esbuild'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const root = dirname(fileURLToPath(import.meta.url))
const src = join(root, 'src')
const dist = join(root, 'dist')

// The word-form / category / brand table the text modules read offline (src/lib/data/
// text-tables.json) is generated from models/data by `python -m models.forms` (pymorphy3).
// It is committed; rebuild it here when an input is newer and the project's Python is there.
function textTables () {
  const out = join(src, 'lib', 'data', 'text-tables.json')
  const project = join(root, '..')
  const inputs = ['categories.json', 'brands.json', 'dishes.json', 'units.json', 'variants.json', 'grocery_words.txt']
    .map((f) => join(project, 'models', 'data', f)).concat([join(project, 'models', 'forms.py')])
  const python = [join(project, '.venv', 'bin', 'python'), 'python3'].find((p) => p === 'python3' || existsSync(p))
  const newest = Math.max(...inputs.filter(existsSync).map((f) => statSync(f).mtimeMs))
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return
  const run = spawnSync(python, ['-m', 'models.forms'], { cwd: project, stdio: 'inherit' })
  if (run.status !== 0 && !existsSync(out)) throw new Error('text tables: `python -m models.forms` failed')
}
textTables()

rmSync(dist, { recursive: true, force: true })
mkdirSync(join(dist, 'assets'), { recursive: true })

const result = await esbuild.build({
  entryPoints: [join(src, 'main.js')],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'esm',
  target: ['es2020'],
  outdir: join(dist, 'assets'),
  entryNames: 'app-[hash]',
  loader: { '.json': 'json' },
  metafile: true,
  legalComments: 'none',
  charset: 'utf8', // the text tables are Cyrillic: \uXXXX escapes would triple them
  logLevel: 'warning'
})

const outputs = Object.keys(result.metafile.outputs).map((p) => '/' + relative(dist, join(root, p)).split('\\').join('/'))
const js = outputs.find((p) => p.endsWith('.js'))
const css = outputs.find((p) => p.endsWith('.css'))

writeFileSync(join(dist, 'index.html'), readFileSync(join(src, 'index.html'), 'utf8')
  .replace('/{{JS}}', js).replace('/{{CSS}}', css))

// --- icons -------------------------------------------------------------------------------
const GREEN = [47, 125, 79]
const WHITE = [255, 255, 255]
// Shapes in a 0..1 box: a check mark and two lines (a list with one item ticked).
const STROKES = [
  { a: [0.22, 0.36], b: [0.30, 0.44], w: 0.055 },
  { a: [0.30, 0.44], b: [0.44, 0.28], w: 0.055 },
  { a: [0.52, 0.36], b: [0.78, 0.36], w: 0.055 },
  { a: [0.22, 0.62], b: [0.78, 0.62], w: 0.055 },
  { a: [0.22, 0.78], b: [0.62, 0.78], w: 0.055 }
]

function segDist (p, a, b) {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]]
  const tt = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
  return Math.hypot(p[0] - a[0] - tt * dx, p[1] - a[1] - tt * dy)
}

function insideRounded (x, y, r) {
  const cx = Math.min(Math.max(x, r), 1 - r)
  const cy = Math.min(Math.max(y, r), 1 - r)
  return Math.hypot(x - cx, y - cy) <= r
}

/** RGBA pixels; `maskable` fills the whole square and keeps the drawing in the safe zone. */
function drawIcon (size, maskable) {
  const px = Buffer.alloc(size * size * 4)
  const S = 4
  const scale = maskable ? 0.72 : 1
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let bg = 0
      let fg = 0
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const u = (x + (sx + 0.5) / S) / size
          const v = (y + (sy + 0.5) / S) / size
          if (!(maskable || insideRounded(u, v, 0.2))) continue
          bg++
          const p = [(u - 0.5) / scale + 0.5, (v - 0.5) / scale + 0.5]
          if (STROKES.some((s) => segDist(p, s.a, s.b) <= s.w / 2)) fg++
        }
      }
      const i = (y * size + x) * 4
      const f = bg ? fg / bg : 0
      for (let c = 0; c < 3; c++) px[i + c] = Math.round(GREEN[c] * (1 - f) + WHITE[c] * f)
      px[i + 3] = Math.round((255 * bg) / (S * S))
    }
  }
  return px
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32 (buf) {
  let c = 0xffffffff
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk (type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}
function png (size, rgba) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))])
}

const hex = (c) => '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('')
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">` +
  `<rect width="100" height="100" rx="20" fill="${hex(GREEN)}"/>` +
  `<g stroke="#fff" stroke-width="5.5" stroke-linecap="round" stroke-linejoin="round" fill="none">` +
  STROKES.map((s) => `<line x1="${s.a[0] * 100}" y1="${s.a[1] * 100}" x2="${s.b[0] * 100}" y2="${s.b[1] * 100}"/>`).join('') +
  '</g></svg>\n'
writeFileSync(join(dist, 'icon.svg'), svg)
writeFileSync(join(dist, 'icon-192.png'), png(192, drawIcon(192, false)))
writeFileSync(join(dist, 'icon-512.png'), png(512, drawIcon(512, false)))
writeFileSync(join(dist, 'icon-maskable-512.png'), png(512, drawIcon(512, true)))

// --- manifest ----------------------------------------------------------------------------
writeFileSync(join(dist, 'manifest.webmanifest'), JSON.stringify({
  name: 'Listok',
  short_name: 'Listok',
  description: 'Shared shopping lists that work offline',
  id: '/',
  start_url: '/',
  scope: '/',
  display: 'standalone',
  background_color: '#f4f6f3',
  theme_color: hex(GREEN),
  icons: [
    { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
    { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
    { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' }
  ]
}, null, 2) + '\n')

// --- service worker ----------------------------------------------------------------------
const shell = ['/', js, css, '/manifest.webmanifest', '/icon.svg', '/icon-192.png', '/icon-512.png']
const version = createHash('sha256')
  .update(shell.map((p) => readFileSync(join(dist, p === '/' ? 'index.html' : p.slice(1)))).join('\0'))
  .digest('hex').slice(0, 16)
writeFileSync(join(dist, 'sw.js'), readFileSync(join(src, 'sw.js'), 'utf8')
  .replace('__VERSION__', version).replace('__SHELL__', JSON.stringify(shell)))

const size = (p) => readFileSync(join(dist, p.slice(1))).length
console.log(`built client/dist: ${js} ${(size(js) / 1024).toFixed(1)} KiB, ${css} ${(size(css) / 1024).toFixed(1)} KiB, sw ${version}`)
