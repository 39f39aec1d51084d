// Russian word forms and name normalization in the browser, offline, without a morphology
// library: a table generated at build time from pymorphy3 over the vocabulary (the item table,
// brands, dish ingredients, common grocery words) by `python -m models.forms`, see
// docs/parsing.md. Mirrors models/text.py (normalize) and the nominative step of
// models/parse.py; both pass tests/vectors/forms.json. A word outside the vocabulary is kept as
// typed (Python's pymorphy3 would still inflect it: the only place the two sides differ).
import TABLES from './data/text-tables.json' with { type: 'json' }

export { TABLES }

const FORMS = TABLES.forms
const VARIANTS = TABLES.variants
const CYRILLIC = /[а-яё]/i
const LATIN = /[a-z]/i
const WORD = /[\p{L}\p{N}]+(?:[.,][0-9]+)?%?/gu
const SPACED_PERCENT = /([0-9])\s+%/g
const ALPHA = /^\p{L}+$/u
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key)

export const fold = (text) => text.toLowerCase().replaceAll('ё', 'е')
export const isCyrillic = (word) => CYRILLIC.test(word)
export const stripAccents = (word) => word.normalize('NFKD').replace(/\p{M}/gu, '')

const entryOf = (word) => (has(FORMS, word) ? FORMS[word] : null)

/** Dictionary form of a folded Russian word ("молока" -> "молоко"); unknown words unchanged. */
export function lemma (word) {
  const w = fold(word)
  const entry = entryOf(w)
  return entry && entry.l ? entry.l : w
}

/** Whether the vocabulary lists this folded Russian form. */
export const isKnownForm = (word) => entryOf(fold(word)) !== null

const EN_IRREGULAR = {
  leaves: 'leaf', loaves: 'loaf', halves: 'half', knives: 'knife', shelves: 'shelf', calves: 'calf',
  mice: 'mouse', teeth: 'tooth', feet: 'foot', geese: 'goose', children: 'child'
}
const EN_IE_WORDS = new Set(['cookies', 'brownies', 'smoothies', 'veggies', 'pies', 'ties', 'hoodies',
  'beanies', 'pasties', 'movies', 'calories', 'goodies', 'selfies', 'zombies', 'rookies'])
const EN_OES_KEEP = new Set(['shoes', 'toes', 'hoes', 'canoes', 'oboes'])
const EN_NOT_PLURAL = new Set(['molasses', 'news', 'series', 'species', 'lens', 'schnapps', 'grits',
  'jeans', 'pants', 'shorts', 'scissors', 'tongs', 'pliers', 'tweezers', 'swimtrunks', 'headphones'])

/** models.text.singular_en */
export function singularEn (w) {
  if (w.length <= 3 || !w.endsWith('s') || ['ss', 'us', 'is'].some((e) => w.endsWith(e))) return w
  if (EN_NOT_PLURAL.has(w)) return w
  if (has(EN_IRREGULAR, w)) return EN_IRREGULAR[w]
  if (EN_IE_WORDS.has(w)) return w.slice(0, -1)
  if (w.endsWith('ies')) return w.slice(0, -3) + 'y'
  if (w.endsWith('oes') && !EN_OES_KEEP.has(w)) return w.slice(0, -2)
  if (['ches', 'shes', 'xes', 'sses', 'zzes'].some((e) => w.endsWith(e))) return w.slice(0, -2)
  return w.slice(0, -1)
}

/** models.text.normalize_word */
export function normalizeWord (word) {
  let w = fold(word)
  if (isCyrillic(w)) w = lemma(w)
  else if (LATIN.test(w)) {
    w = stripAccents(w)
    if (ALPHA.test(w)) w = singularEn(w)
  }
  return has(VARIANTS, w) ? VARIANTS[w] : w
}

/** The folded words of a name, as normalize() splits them. */
export const words = (name) => fold(name).replace(SPACED_PERCENT, '$1%').match(WORD) || []

/** models.text.normalize: a key for comparing item names ("Молока" -> "молоко", "Eggs" -> "egg"). */
export const normalize = (name) => words(name).map(normalizeWord).join(' ')

/** normalize() with the words sorted. */
export const tokensKey = (name) => normalize(name).split(' ').filter(Boolean).sort().join(' ')

// --- the nominative of a genitive phrase after a quantity (models/parse.py nominative) -------

function caseLike (word, original) {
  if (!original.toLowerCase().includes('ё')) word = word.replaceAll('ё', 'е')
  const first = original.slice(0, 1)
  return first && first !== first.toLowerCase() ? word.slice(0, 1).toUpperCase() + word.slice(1) : word
}

const nounOf = (word) => { const e = entryOf(fold(word)); return e && e.n ? e.n : null }
const adjOf = (word) => { const e = entryOf(fold(word)); return e && e.a ? e.a : null }

function adjectiveNominative (word, number, gender) {
  const forms = adjOf(word)
  if (!forms) return word
  const key = number === 'plur' ? 'plur:' : `sing:${gender || ''}`
  return has(forms, key) ? caseLike(forms[key], word) : word
}

/** Put a genitive noun phrase back in the nominative, keeping its number:
 *  ["сливочного", "масла"] -> ["сливочное", "масло"], ["лимонов"] -> ["лимоны"]. */
export function nominative (list) {
  let nounAt = -1
  for (let index = 0; index < list.length; index++) {
    const word = list[index]
    if (!isCyrillic(word)) break
    const nextIsNoun = index + 1 < list.length && nounOf(list[index + 1]) !== null
    if (nounOf(word) && !(nextIsNoun && adjOf(word))) {
      nounAt = index
      break
    }
    if (!adjOf(word)) break
  }
  if (nounAt < 0) return list
  const [nomn, gender, number] = nounOf(list[nounAt])
  const out = [...list]
  out[nounAt] = nomn ? caseLike(nomn, list[nounAt]) : list[nounAt]
  for (let index = 0; index < nounAt; index++) out[index] = adjectiveNominative(list[index], number, gender)
  for (let index = nounAt + 1; index < list.length; index++) {
    const changed = adjectiveNominative(list[index], number, gender)
    if (changed === list[index]) break
    out[index] = changed
  }
  return out
}
