// Turns what the user typed into item fields. The parser (src/lib/parse.js) and the
// category guesser (src/lib/categories.js) are optional at build time: build.mjs resolves
// `listok:parse` / `listok:categories` to them when they exist and to empty stand-ins when
// not, in which case the whole text becomes the item's name.
import * as parser from 'listok:parse'
import * as categories from 'listok:categories'
import { CATEGORIES } from './schema.js'

const pick = (mod, names) => {
  for (const n of names) if (typeof mod[n] === 'function') return mod[n]
  return null
}

const parseFn = pick(parser, ['parseItem', 'parseEntry', 'parse', 'default'])
const guessFn = pick(categories, ['guessCategory', 'categorize', 'categoryFor', 'classify', 'default'])

function guess (name, lang) {
  try {
    const c = guessFn ? guessFn(name, lang) : ''
    const slug = typeof c === 'string' ? c : c && c.slug
    return CATEGORIES.includes(slug) ? slug : ''
  } catch {
    return ''
  }
}

export function parseEntry (text, lang) {
  const raw = String(text || '').trim()
  let r = null
  try { r = parseFn ? parseFn(raw, lang) : null } catch { r = null }
  if (!r || typeof r.name !== 'string' || !r.name.trim()) return { name: raw, category: guess(raw, lang) }
  const qty = typeof r.qty === 'number' && Number.isFinite(r.qty) ? r.qty : null
  const unit = typeof r.unit === 'string' && r.unit ? r.unit : null
  const category = CATEGORIES.includes(r.category) ? r.category : guess(r.name, lang)
  return { name: r.name.trim(), qty, unit, category, note: typeof r.note === 'string' ? r.note : '' }
}

// Unit codes the parser knows ("kg", "pack") and every word for them ("кг", "packs").
const UNIT_ALIASES = new Map()
for (const [code, aliases] of Object.entries((parser.VOCABULARY && parser.VOCABULARY.units) || {})) {
  UNIT_ALIASES.set(code, code)
  for (const a of aliases) UNIT_ALIASES.set(String(a).toLowerCase(), code)
}

/** A unit typed in the editor, as the code the parser would have stored. */
export function canonicalUnit (text) {
  const raw = String(text || '').trim()
  return UNIT_ALIASES.get(raw.toLowerCase().replace(/\.$/, '')) || raw
}
