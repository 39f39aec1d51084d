// What the text library gives the UI, in one place: turning typed text into item fields,
// the unit words of the editor, the category of a name, and the duplicate rule. The UI
// imports these names from here only, so a new text library is one edit in this file.
import { parseEntry as parseText, VOCABULARY } from './parse.js'
import { CATEGORIES } from './schema.js'

/** The category of an item name, '' when unknown. No table in this build: the server files it. */
export function categorize (_name, _lang) {
  return ''
}

/** Typed text ("2 kg potatoes") as item fields {name, qty, unit, category}. */
export function parseEntry (text, lang) {
  const raw = String(text || '').trim()
  const r = parseText(raw)
  const name = r.name.trim() || raw
  const category = categorize(name, lang)
  return { name, qty: r.qty, unit: r.unit, category: CATEGORIES.includes(category) ? category : '' }
}

const fold = (s) => String(s || '').toLowerCase().replaceAll('ё', 'е').replace(/\s+/g, ' ').trim()

/**
 * The open item a new name would duplicate, or null. Until the shared duplicate rules land
 * in the browser this is the same name in another case or spelling of ё.
 */
export function findDuplicate (name, items) {
  const key = fold(name)
  if (!key) return null
  return items.find((i) => !i.checked && fold(i.name) === key) || null
}

// Unit codes the parser knows ("kg", "pack") and every word for them ("кг", "packs").
const UNIT_ALIASES = new Map()
for (const [code, aliases] of Object.entries(VOCABULARY.units)) {
  UNIT_ALIASES.set(code, code)
  for (const a of aliases) UNIT_ALIASES.set(String(a).toLowerCase(), code)
}

/** A unit typed in the editor, as the code the parser would have stored. */
export function canonicalUnit (text) {
  const raw = String(text || '').trim()
  return UNIT_ALIASES.get(raw.toLowerCase().replace(/\.$/, '')) || raw
}
