// Aisle categories in the browser, offline: the curated item table and the brand table of
// models/data (through the generated table, forms.js), looked up the way models/categories.py
// does. Both pass tests/vectors/categories*.json.
import { TABLES, isCyrillic, normalize } from './forms.js'

const ITEMS = TABLES.items
const BY_WORDS = TABLES.items_by_words
const BRANDS = TABLES.brands
const MARKERS = TABLES.markers
const NOUNS = new Set(TABLES.nouns)
const QUALIFIERS = new Set(TABLES.qualifiers)
const OF = new Set(TABLES.of)
const CANNED_UNITS = new Set(['can', 'jar'])
const CANNED_FROM = new Set(['produce', 'meat', 'fish', 'dairy', 'frozen'])
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key)

export const CATEGORY_SLUGS = ['produce', 'dairy', 'bakery', 'meat', 'fish', 'frozen', 'pantry',
  'drinks', 'snacks', 'household', 'personal_care', 'other']

/** The category slug for an item name and its parsed unit ("can" makes tomatoes pantry);
 *  "other" when nothing matches. */
export function categorize (name, unit = null) {
  const slug = lookup(String(name || ''))
  return CANNED_UNITS.has(unit) && CANNED_FROM.has(slug) ? 'pantry' : slug
}

function lookup (name) {
  const key = normalize(name)
  if (has(ITEMS, key)) return ITEMS[key]
  const words = key.split(' ').filter(Boolean)
  for (const word of words) if (has(MARKERS, word)) return MARKERS[word]
  const sorted = [...words].sort().join(' ')
  if (has(BY_WORDS, sorted)) return BY_WORDS[sorted]
  for (const phrase of plainSubphrases(words)) if (has(BRANDS, phrase)) return BRANDS[phrase]
  for (const phrase of candidates(words)) if (has(ITEMS, phrase)) return ITEMS[phrase]
  return 'other'
}

function plainSubphrases (words) {
  const out = []
  for (let size = words.length; size > 0; size--) {
    for (let i = 0; i + size <= words.length; i++) out.push(words.slice(i, i + size).join(' '))
  }
  return out
}

function head (words) {
  for (let index = 0; index < words.length; index++) {
    const word = words[index]
    if (OF.has(word) && index > 0 && index < words.length - 1) return words.slice(index + 1)
    if (QUALIFIERS.has(word) && index > 0) return words.slice(0, index)
  }
  return words
}

function subphrases (words) {
  const found = []
  const n = words.length
  const russian = words.some(isCyrillic)
  for (let size = n; size > 0; size--) {
    let spans = []
    for (let i = 0; i + size <= n; i++) spans.push(words.slice(i, i + size))
    if (russian) spans.sort((a, b) => Number(!a.some((w) => NOUNS.has(w))) - Number(!b.some((w) => NOUNS.has(w))))
    else spans = spans.reverse()
    found.push(...spans.map((span) => span.join(' ')))
  }
  return found
}

function candidates (words) {
  return [...new Set([...subphrases(head(words)), ...subphrases(words)])]
}
