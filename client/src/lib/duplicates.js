// "Is this already on the list?" in the browser, offline: the rules of models/duplicates.py
// (same key, same words in another order, typos of known words guarded against false friends).
// Both pass tests/vectors/duplicates.json.
import { TABLES, fold, isCyrillic, isKnownForm, lemma, normalize, normalizeWord, stripAccents, tokensKey, words } from './forms.js'

const KNOWN = new Set(TABLES.known)
const NEAR = new Set(TABLES.near)
const MIN_TYPO_LENGTH = 5
const LONG_WORD = 8

const FORMS_BY_LEMMA = new Map()
for (const form of Object.keys(TABLES.forms)) {
  const key = lemma(form)
  if (!FORMS_BY_LEMMA.has(key)) FORMS_BY_LEMMA.set(key, [])
  FORMS_BY_LEMMA.get(key).push(form)
}

const nameOf = (item) => (typeof item === 'string' ? item : item && typeof item.name === 'string' ? item.name : '')

/** The first of `items` (names, or objects with a `name`) that `name` would duplicate, else null:
 *  the same normalized key ("Молока" / "молоко"), else the same words in another order, else a
 *  typo of a known word ("молако" / "молоко"). Pass only the open (unchecked) items. */
export function findDuplicate (name, items) {
  const key = normalize(String(name || ''))
  if (!key) return null
  const sorted = tokensKey(name)
  let reordered = null
  let typo = null
  for (const item of items || []) {
    const other = normalize(nameOf(item))
    if (!other) continue
    if (other === key) return item
    if (reordered === null && tokensKey(nameOf(item)) === sorted) reordered = item
    if (typo === null && reordered === null && typoMatch(name, nameOf(item))) typo = item
  }
  return reordered ?? typo
}

/** models.forms.known_lemma: the key of a word the vocabulary knows, else the word itself. */
function knownLemma (word) {
  const w = fold(word)
  if (isCyrillic(w)) return isKnownForm(w) ? lemma(w) : w
  return normalizeWord(w)
}

const surface = (name) => words(name).map((w) => (isCyrillic(w) ? w : stripAccents(w)))

export function typoMatch (a, b) {
  const left = surface(a).map(knownLemma)
  const right = surface(b).map(knownLemma)
  if (left.length !== right.length || !left.length) return false
  let typos = 0
  for (let i = 0; i < left.length; i++) {
    if (left[i] === right[i]) continue
    if (!typoClose(left[i], right[i])) return false
    typos++
  }
  return typos > 0
}

function typoClose (x, y) {
  if (KNOWN.has(x) === KNOWN.has(y)) return false
  const [typed, right] = KNOWN.has(x) ? [y, x] : [x, y]
  if (typed.length < MIN_TYPO_LENGTH || NEAR.has(typed)) return false
  const limit = typed.length >= LONG_WORD ? 2 : 1
  const forms = FORMS_BY_LEMMA.get(right) || []
  return [right, ...forms].some((form) => editDistance(typed, form, limit) <= limit)
}

/** Optimal string alignment distance (a transposition is one edit); limit + 1 when over. */
export function editDistance (a, b, limit) {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let previous2 = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i, ...new Array(b.length).fill(0)]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], previous2[j - 2] + 1)
      }
    }
    if (Math.min(...current) > limit) return limit + 1
    previous2 = previous
    previous = current
  }
  return previous[b.length]
}
