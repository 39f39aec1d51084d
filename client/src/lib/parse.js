// Free-text entry parsing in the browser ("2 kg potatoes", "полкило гречки"), offline.
// A mirror of models/parse.py: the same grammar and the same vocabulary (VOCABULARY below is a
// copy of models/data/units.json, checked by client/test/parse.test.mjs). Both pass
// tests/vectors/parse.json and parse_heldout2.json. The nominative of a Russian name after its
// amount ("гречки" -> "гречка") comes from the generated form table (forms.js).
import { fold, isCyrillic, nominative } from './forms.js'
import { categorize } from './categories.js'

export const VOCABULARY = {
  units: {
    g: ['g', 'gr', 'gram', 'grams', 'gramme', 'grammes', 'г', 'гр', 'грамм', 'грамма', 'граммов', 'граммы'],
    kg: ['kg', 'kgs', 'kilo', 'kilos', 'kilogram', 'kilograms', 'kilogramme', 'kilogrammes', 'кг', 'кило', 'килограмм', 'килограмма', 'килограммов', 'килограммы'],
    lb: ['lb', 'lbs', 'pound', 'pounds', 'фунт', 'фунта', 'фунтов'],
    oz: ['oz', 'ounce', 'ounces'],
    ml: ['ml', 'millilitre', 'millilitres', 'milliliter', 'milliliters', 'мл', 'миллилитр', 'миллилитра', 'миллилитров'],
    l: ['l', 'ltr', 'litre', 'litres', 'liter', 'liters', 'л', 'литр', 'литра', 'литров', 'литры'],
    gal: ['gal', 'gallon', 'gallons'],
    pcs: ['pc', 'pcs', 'piece', 'pieces', 'шт', 'штука', 'штуки', 'штук', 'штуку'],
    pack: ['pack', 'packs', 'packet', 'packets', 'package', 'packages', 'pkg', 'pk', 'пачка', 'пачки', 'пачек', 'пачку', 'упаковка', 'упаковки', 'упаковок', 'упаковку', 'уп', 'упак'],
    bag: ['bag', 'bags', 'sack', 'sacks', 'пакет', 'пакета', 'пакетов', 'мешок', 'мешка', 'мешков'],
    box: ['box', 'boxes', 'carton', 'cartons', 'коробка', 'коробки', 'коробок', 'коробку'],
    can: ['can', 'cans', 'tin', 'tins', 'банка', 'банки', 'банок', 'банку', 'жестянка', 'жестянки', 'жестянок'],
    jar: ['jar', 'jars'],
    bottle: ['bottle', 'bottles', 'бутылка', 'бутылки', 'бутылок', 'бутылку', 'бут'],
    roll: ['roll', 'rolls', 'рулон', 'рулона', 'рулонов'],
    bunch: ['bunch', 'bunches', 'пучок', 'пучка', 'пучков'],
    loaf: ['loaf', 'loaves', 'буханка', 'буханки', 'буханок', 'буханку'],
    head: ['head', 'heads', 'кочан', 'кочана', 'кочанов', 'головка', 'головки', 'головок', 'головку'],
    pt: ['pt', 'pts', 'pint', 'pints'],
    qt: ['qt', 'qts', 'quart', 'quarts'],
    floz: ['fl oz', 'floz']
  },
  numbers: {
    one: 1,
    two: 2,
    three: 3,
    four: 4,
    five: 5,
    six: 6,
    seven: 7,
    eight: 8,
    nine: 9,
    ten: 10,
    eleven: 11,
    twelve: 12,
    fifteen: 15,
    twenty: 20,
    один: 1,
    одна: 1,
    одно: 1,
    одну: 1,
    два: 2,
    две: 2,
    три: 3,
    четыре: 4,
    пять: 5,
    шесть: 6,
    семь: 7,
    восемь: 8,
    девять: 9,
    десять: 10,
    одиннадцать: 11,
    двенадцать: 12,
    пятнадцать: 15,
    двадцать: 20,
    половина: 0.5,
    половину: 0.5,
    полтора: 1.5,
    полторы: 1.5
  },
  articles: ['a', 'an'],
  half: ['half', 'пол'],
  counts: {
    dozen: 12,
    dozens: 12,
    couple: 2,
    pair: 2,
    pairs: 2,
    дюжина: 12,
    дюжину: 12,
    дюжины: 12,
    десяток: 10,
    десятка: 10,
    десятков: 10,
    пара: 2,
    пару: 2,
    пары: 2,
    doz: 12,
    dz: 12
  },
  fused: {
    полкило: [0.5, 'kg'],
    полкилограмма: [0.5, 'kg'],
    поллитра: [0.5, 'l'],
    'пол-литра': [0.5, 'l'],
    полдюжины: [6, 'pcs'],
    полдесятка: [5, 'pcs'],
    полторашка: [1.5, 'l'],
    полторашки: [1.5, 'l'],
    полторашку: [1.5, 'l']
  },
  times: ['x', 'х', '×', '*'],
  of: ['of'],
  separators: ['-', '–', '—', ':', ','],
  bare_unit_blockers: ['для', 'с', 'со', 'без', 'из', 'в', 'на', 'под', 'от'],
  pair_units: ['pair', 'pairs', 'пара', 'пары', 'пар', 'пару'],
  vague: ['few', 'several', 'some', 'несколько', 'немного'],
  sizes: ['size', 'sz', 'размер', 'размера', 'р'],
  multipacks: ['pack', 'pk'],
  compound: {
    fl: 'oz'
  }
}

const NUM = '[0-9]+/[0-9]+|[0-9]+(?:[.,][0-9]+)?|[½¼¾]'
const NUMBER = new RegExp(`^(?:${NUM})$`)
const GLUED = new RegExp(`^(${NUM})([^0-9]+)$`)
const TIMES_FIRST = new RegExp(`^([x×х*])(${NUM})$`)
const OPENERS = '([{"\'«“'
const CLOSERS = ')]}"\'»”'
const TRAILING_SEPARATORS = ',;:'
const VULGAR = { '½': 0.5, '¼': 0.25, '¾': 0.75 }
const PAIRS = { '(': ')', '[': ']', '{': '}', '«': '»', '“': '”' }

const UNIT_OF = new Map()
for (const [unit, aliases] of Object.entries(VOCABULARY.units)) {
  for (const alias of aliases) UNIT_OF.set(alias, unit)
}
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key)
const ARTICLES = new Set(VOCABULARY.articles)
const HALF = new Set(VOCABULARY.half)
const TIMES = new Set(VOCABULARY.times)
const OF = new Set(VOCABULARY.of)
const SEPARATORS = new Set(VOCABULARY.separators)
const BLOCKERS = new Set(VOCABULARY.bare_unit_blockers)
const PAIR_UNITS = new Set(VOCABULARY.pair_units)
const VAGUE = new Set(VOCABULARY.vague)
const SIZES = new Set(VOCABULARY.sizes)
const MULTIPACKS = new Set(VOCABULARY.multipacks)

export { fold }

export function parseNumber (token) {
  if (has(VULGAR, token)) return VULGAR[token]
  if (!NUMBER.test(token)) return null
  if (token.includes('/')) {
    const [top, bottom] = token.split('/').map(Number)
    return bottom ? top / bottom : null
  }
  return Number(token.replace(',', '.'))
}

function splitGlued (word) {
  const folded = fold(word)
  const glued = GLUED.exec(folded)
  if (glued && (UNIT_OF.has(glued[2]) || TIMES.has(glued[2]))) {
    const cut = glued[1].length
    return [word.slice(0, cut), word.slice(cut)]
  }
  if (TIMES_FIRST.test(folded)) return [word.slice(0, 1), word.slice(1)]
  return [word]
}

// A word that may carry an abbreviation's period: a unit, a count word, "2kg", "x4".
function unitish (word) {
  const folded = fold(word)
  if (UNIT_OF.has(folded) || has(VOCABULARY.counts, folded) || has(VOCABULARY.compound, folded)) return true
  return splitGlued(word).length > 1
}

// Words with where they sit in the text (models/parse.py tokenize_spans): [start, end) is the
// word, [outerStart, outerEnd) adds the brackets or quotes glued to it.
export function tokenizeSpans (text) {
  const chunks = [...text.matchAll(/\S+/g)]
  const tokens = []
  chunks.forEach((chunk, index) => {
    const start = chunk.index
    const end = start + chunk[0].length
    let coreStart = start
    while (coreStart < end && OPENERS.includes(text[coreStart])) coreStart++
    let coreEnd = end
    let trailing = ''
    const last = index === chunks.length - 1
    while (coreEnd > coreStart) {
      const char = text[coreEnd - 1]
      if (CLOSERS.includes(char) || (TRAILING_SEPARATORS.includes(char) && coreEnd - coreStart > 1)) {
        if (!trailing && TRAILING_SEPARATORS.includes(char)) trailing = char
        coreEnd--
      } else if (char === '.' && coreEnd - coreStart > 1) {
        const stem = text.slice(coreStart, coreEnd - 1).replace(/\.+$/, '')
        if (!(last || unitish(stem))) break
        coreEnd--
      } else break
    }
    let closersEnd = coreEnd
    while (closersEnd < end && CLOSERS.includes(text[closersEnd])) closersEnd++
    const word = text.slice(coreStart, coreEnd)
    if (word) {
      const pieces = splitGlued(word)
      let offset = coreStart
      pieces.forEach((piece, number) => {
        const first = number === 0
        const final = number === pieces.length - 1
        tokens.push({
          text: piece,
          start: offset,
          end: offset + piece.length,
          outerStart: first ? start : offset,
          outerEnd: final ? closersEnd : offset + piece.length
        })
        offset += piece.length
      })
    }
    if (trailing) tokens.push({ text: trailing, start: coreEnd, end: coreEnd + 1, outerStart: coreEnd, outerEnd: coreEnd + 1 })
  })
  return joinCompound(tokens)
}

function joinCompound (tokens) {
  const out = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    const folded = fold(token.text)
    const second = has(VOCABULARY.compound, folded) ? VOCABULARY.compound[folded] : null
    if (second !== null && i + 1 < tokens.length && fold(tokens[i + 1].text) === second) {
      const after = tokens[i + 1]
      out.push({ text: `${folded} ${second}`, start: token.start, end: after.end, outerStart: token.outerStart, outerEnd: after.outerEnd })
      i++
    } else out.push(token)
  }
  return out
}

export const tokenize = (text) => tokenizeSpans(text).map((t) => t.text)

const skip = (folded, i, words) => (i < folded.length && words.has(folded[i]) ? i + 1 : i)

// amount := fused | [value] [count] [unit] [times] [of]   (see models/parse.py read_amount)
export function readAmount (folded, i, atStart) {
  const n = folded.length
  if (i >= n) return null
  const first = folded[i]
  const after = i + 1 < n ? folded[i + 1] : ''
  if (has(VOCABULARY.fused, first)) {
    const [qty, unit] = VOCABULARY.fused[first]
    return { qty, unit, end: skip(folded, i + 1, OF) }
  }
  let value
  let weak = false
  let explicit = false
  const number = parseNumber(first)
  if (number !== null) {
    value = number
    i += 1
    explicit = true
    const fraction = after && (after.includes('/') || has(VULGAR, after)) ? parseNumber(after) : null
    if (fraction !== null && Number.isInteger(number) && fraction < 1) {
      value = number + fraction
      i += 1
    }
  } else if (has(VOCABULARY.numbers, first)) {
    value = VOCABULARY.numbers[first]
    i += 1
    explicit = true
  } else if (HALF.has(first)) {
    value = 0.5
    i += 1
    weak = true
    if (i < n && ARTICLES.has(folded[i])) i += 1
  } else if (ARTICLES.has(first)) {
    value = 1
    i += 1
    weak = true
  } else if (has(VOCABULARY.counts, first) || (UNIT_OF.has(first) && isCyrillic(first))) {
    value = 1
    if (BLOCKERS.has(after)) return null
  } else if (UNIT_OF.has(first) && OF.has(after)) {
    value = 1
  } else {
    return null
  }
  let unit = null
  if (i < n && has(VOCABULARY.counts, folded[i])) {
    if (explicit && PAIR_UNITS.has(folded[i])) unit = 'pair'
    else {
      value *= VOCABULARY.counts[folded[i]]
      unit = 'pcs'
    }
    i += 1
    weak = false
  }
  if (unit === null && i < n && UNIT_OF.has(folded[i])) {
    if (!atStart && explicit && value > 1 && MULTIPACKS.has(folded[i])) return null
    unit = UNIT_OF.get(folded[i])
    i += 1
    weak = false
  }
  if (weak && !atStart) return null
  if (unit === null && i < n && TIMES.has(folded[i])) i += 1
  return { qty: value, unit: unit ?? 'pcs', end: skip(folded, i, OF) }
}

function trim (folded, start, end) {
  while (start < end && SEPARATORS.has(folded[start])) start++
  while (end > start && SEPARATORS.has(folded[end - 1])) end--
  return [start, end]
}

function readTail (folded, start) {
  const n = folded.length
  if (SIZES.has(folded[start - 1])) return null
  if (TIMES.has(folded[start]) && start + 2 === n) {
    const number = parseNumber(folded[start + 1])
    return number === null ? null : { qty: number, unit: 'pcs' }
  }
  const amount = readAmount(folded, start, false)
  if (amount === null || amount.end !== n) return null
  const bare = parseNumber(folded[start])
  if (bare !== null && amount.end - start === 1 && !Number.isInteger(bare)) return null
  return { qty: amount.qty, unit: amount.unit }
}

/** Where the name is among the folded tokens, and the amount around it (models/parse.py split_tokens). */
export function splitTokens (folded) {
  const n = folded.length
  if (n >= 2 && TIMES.has(folded[0]) && parseNumber(folded[1]) !== null) {
    const [start, end] = trim(folded, 2, n)
    if (start < end) return { start, end, qty: parseNumber(folded[1]), unit: 'pcs', quantityFirst: true }
  }
  let vague = n && VAGUE.has(folded[0]) ? 1 : 0
  if (n >= 2 && ARTICLES.has(folded[0]) && VAGUE.has(folded[1])) vague = 2
  if (vague) {
    const [start, end] = trim(folded, vague, n)
    if (start < end) return { start, end, qty: null, unit: null, quantityFirst: true }
  }
  const head = readAmount(folded, 0, true)
  if (head !== null) {
    const [start, end] = trim(folded, head.end, n)
    if (start < end) return { start, end, qty: head.qty, unit: head.unit, quantityFirst: true }
  }
  for (let at = 1; at < n; at++) {
    const tail = readTail(folded, at)
    if (tail !== null) {
      const [start, end] = trim(folded, 0, at)
      if (start < end) return { start, end, qty: tail.qty, unit: tail.unit, quantityFirst: false }
    }
  }
  const [start, end] = trim(folded, 0, n)
  return { start, end, qty: null, unit: null, quantityFirst: false }
}

const count = (text, char) => text.split(char).length - 1

function balanced (name) {
  let changed = true
  while (changed && name) {
    changed = false
    for (const [opener, closer] of Object.entries(PAIRS)) {
      if (name.endsWith(closer) && count(name, closer) > count(name, opener)) {
        name = name.slice(0, -1).trimEnd()
        changed = true
      }
      if (name.startsWith(opener) && count(name, opener) > count(name, closer)) {
        name = name.slice(1).trimStart()
        changed = true
      }
    }
    for (const quote of '"\'') {
      if (count(name, quote) % 2 && (name.startsWith(quote) || name.endsWith(quote))) {
        name = name.startsWith(quote) ? name.slice(1) : name.slice(0, -1)
        changed = true
      }
    }
  }
  return name
}

function slice (text, tokens, replaced) {
  const out = []
  let at = tokens[0].outerStart
  tokens.forEach((token, index) => {
    out.push(text.slice(at, token.start), replaced[index])
    at = token.end
  })
  out.push(text.slice(at, tokens[tokens.length - 1].outerEnd))
  return balanced(out.join('').trim())
}

// parseEntry("полкило гречки") -> { name: "гречка", qty: 0.5, unit: "kg", rawName: "гречки",
//                                   category: "pantry" }
// An entry without a quantity comes back with qty and unit null. `name` is what to store:
// a Russian name after its amount is put in the nominative (from the generated form table);
// `rawName` is the name as typed. Punctuation, quotes and brackets inside the name are kept.
// `category` is categorize(name, unit) ("3 cans of tomatoes" -> pantry), offline.
export function parseEntry (text) {
  const parsed = parseOnly(text)
  return { ...parsed, category: categorize(parsed.name, parsed.unit) }
}

function parseOnly (text) {
  const tokens = tokenizeSpans(text)
  const found = splitTokens(tokens.map((t) => fold(t.text)))
  const nameTokens = tokens.slice(found.start, found.end)
  if (!nameTokens.length) {
    const stripped = text.trim()
    return { name: stripped, qty: found.qty, unit: found.unit, rawName: stripped }
  }
  const typed = nameTokens.map((t) => t.text)
  const rawName = slice(text, nameTokens, typed)
  let name = rawName
  if (found.quantityFirst && typed.some(isCyrillic)) name = slice(text, nameTokens, nominative(typed))
  return { name, qty: found.qty, unit: found.unit, rawName }
}
