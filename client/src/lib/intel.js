// What the text library gives the UI, in one place: turning typed text into item fields,
// the unit words of the editor, the category of a name, and the duplicate rule. The UI
// imports these names from here only, so a new text library is one edit in this file.
import { parseEntry as parseText, VOCABULARY } from './parse.js'
import { categorize as categoryOf } from './categories.js'
import { findDuplicate as duplicateOf } from './duplicates.js'
import { CATEGORIES } from './schema.js'

/** The category of an item name (the shared category table, unit-aware), '' when unknown. */
export function categorize (name, unit = null) {
  return categoryOf(name, unit)
}

/** Typed text ("2 kg potatoes") as item fields {name, qty, unit, category}. */
export function parseEntry (text) {
  const raw = String(text || '').trim()
  const r = parseText(raw)
  const name = r.name.trim() || raw
  const category = r.category || categorize(name, r.unit)
  return { name, qty: r.qty, unit: r.unit, category: CATEGORIES.includes(category) ? category : '' }
}

/** The open item a new name would duplicate (the shared rules: models/duplicates.py), or null. */
export function findDuplicate (name, items) {
  return duplicateOf(name, items.filter((i) => !i.checked))
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
