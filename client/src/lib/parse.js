// Free-text entry parsing in the browser ("2 kg potatoes", "полкило гречки"), offline, no deps.
// A mirror of models/parse.py: the same grammar and the same vocabulary (VOCABULARY below is a
// copy of models/data/units.json, checked by client/test/parse.test.mjs). Both pass
// tests/vectors/parse.json. Python also puts a Russian name back in the nominative case
// ("гречки" -> "гречка"); this side has no morphology, so `name` is the name as typed.

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
    pack: ['pack', 'packs', 'packet', 'packets', 'package', 'packages', 'pkg', 'pk', 'пачка', 'пачки', 'пачек', 'пачку', 'упаковка', 'упаковки', 'упаковок', 'упаковку', 'уп'],
    bag: ['bag', 'bags', 'sack', 'sacks', 'пакет', 'пакета', 'пакетов', 'мешок', 'мешка', 'мешков'],
    box: ['box', 'boxes', 'carton', 'cartons', 'коробка', 'коробки', 'коробок', 'коробку'],
    can: ['can', 'cans', 'tin', 'tins', 'банка', 'банки', 'банок', 'банку', 'жестянка', 'жестянки', 'жестянок'],
    jar: ['jar', 'jars'],
    bottle: ['bottle', 'bottles', 'бутылка', 'бутылки', 'бутылок', 'бутылку', 'бут'],
    roll: ['roll', 'rolls', 'рулон', 'рулона', 'рулонов'],
    bunch: ['bunch', 'bunches', 'пучок', 'пучка', 'пучков'],
    loaf: ['loaf', 'loaves', 'буханка', 'буханки', 'буханок', 'буханку'],
    head: ['head', 'heads', 'кочан', 'кочана', 'кочанов', 'головка', 'головки', 'головок', 'головку'],
  },
  numbers: {
    one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8,
    nine: 9, ten: 10, eleven: 11, twelve: 12, fifteen: 15, twenty: 20,
    один: 1, одна: 1, одно: 1, одну: 1, два: 2, две: 2, три: 3, четыре: 4,
    пять: 5, шесть: 6, семь: 7, восемь: 8, девять: 9, десять: 10,
    одиннадцать: 11, двенадцать: 12, пятнадцать: 15, двадцать: 20,
    половина: 0.5, половину: 0.5, полтора: 1.5, полторы: 1.5,
  },
  articles: ['a', 'an'],
  half: ['half', 'пол'],
  counts: {
    dozen: 12, dozens: 12, couple: 2, pair: 2, pairs: 2,
    дюжина: 12, дюжину: 12, дюжины: 12, десяток: 10, десятка: 10, десятков: 10,
    пара: 2, пару: 2, пары: 2,
  },
  fused: {
    полкило: [0.5, 'kg'], полкилограмма: [0.5, 'kg'], поллитра: [0.5, 'l'], 'пол-литра': [0.5, 'l'],
    полдюжины: [6, 'pcs'], полдесятка: [5, 'pcs'],
  },
  times: ['x', 'х', '×', '*'],
  of: ['of'],
  separators: ['-', '–', '—', ':', ','],
  bare_unit_blockers: ['для', 'с', 'со', 'без', 'из', 'в', 'на', 'под', 'от'],
}

const NUM = '[0-9]+/[0-9]+|[0-9]+(?:[.,][0-9]+)?|[½¼¾]'
const NUMBER = new RegExp(`^(?:${NUM})$`)
const GLUED = new RegExp(`^(${NUM})([^0-9]+)$`)
const TIMES_FIRST = new RegExp(`^([x×х*])(${NUM})$`)
const CYRILLIC = /[а-яё]/i
const OPENERS = '([{"\'«“'
const CLOSERS = ')]}"\'»”'
const TRAILING_SEPARATORS = ',;:'
const VULGAR = { '½': 0.5, '¼': 0.25, '¾': 0.75 }

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

export function fold (text) {
  return text.toLowerCase().replaceAll('ё', 'е')
}

const isCyrillic = (word) => CYRILLIC.test(word)

export function parseNumber (token) {
  if (has(VULGAR, token)) return VULGAR[token]
  if (!NUMBER.test(token)) return null
  if (token.includes('/')) {
    const [top, bottom] = token.split('/').map(Number)
    return bottom ? top / bottom : null
  }
  return Number(token.replace(',', '.'))
}

function stripStart (word, chars) {
  let i = 0
  while (i < word.length && chars.includes(word[i])) i++
  return word.slice(i)
}

function stripEnd (word, chars) {
  let end = word.length
  while (end > 0 && chars.includes(word[end - 1])) end--
  return word.slice(0, end)
}

export function tokenize (text) {
  const tokens = []
  for (const chunk of text.split(/\s+/)) {
    if (!chunk) continue
    let word = stripEnd(stripStart(chunk, OPENERS), CLOSERS)
    let trailing = ''
    if (word.length > 1 && TRAILING_SEPARATORS.includes(word[word.length - 1])) {
      trailing = word[word.length - 1]
      word = word.slice(0, -1)
    }
    if (word) tokens.push(...splitGlued(word))
    if (trailing) tokens.push(trailing)
  }
  return tokens
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

const skip = (folded, i, words) => (i < folded.length && words.has(folded[i]) ? i + 1 : i)

// amount := fused | [value] [count] [unit] [times] [of]   (see models/parse.py read_amount)
export function readAmount (folded, i, atStart) {
  const n = folded.length
  if (i >= n) return null
  const first = folded[i]
  if (has(VOCABULARY.fused, first)) {
    const [qty, unit] = VOCABULARY.fused[first]
    return { qty, unit, end: skip(folded, i + 1, OF) }
  }
  let value
  let weak = false
  const number = parseNumber(first)
  if (number !== null) {
    value = number
    i += 1
  } else if (has(VOCABULARY.numbers, first)) {
    value = VOCABULARY.numbers[first]
    i += 1
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
    const after = i + 1 < n ? folded[i + 1] : ''
    if (BLOCKERS.has(after)) return null
  } else {
    return null
  }
  let unit = null
  if (i < n && has(VOCABULARY.counts, folded[i])) {
    value *= VOCABULARY.counts[folded[i]]
    i += 1
    weak = false
    unit = 'pcs'
  }
  if (i < n && UNIT_OF.has(folded[i])) {
    unit = UNIT_OF.get(folded[i])
    i += 1
    weak = false
  }
  if (weak && !atStart) return null
  if (unit === null && i < n && TIMES.has(folded[i])) i += 1
  return { qty: value, unit: unit ?? 'pcs', end: skip(folded, i, OF) }
}

function trim (tokens, folded) {
  let start = 0
  let end = tokens.length
  while (start < end && SEPARATORS.has(folded[start])) start++
  while (end > start && SEPARATORS.has(folded[end - 1])) end--
  return tokens.slice(start, end)
}

function readTail (folded, start) {
  const n = folded.length
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

function splitEntry (text) {
  const tokens = tokenize(text)
  const folded = tokens.map(fold)
  const n = tokens.length
  if (n >= 2 && TIMES.has(folded[0]) && parseNumber(folded[1]) !== null) {
    const name = trim(tokens.slice(2), folded.slice(2))
    if (name.length) return { name, qty: parseNumber(folded[1]), unit: 'pcs' }
  }
  const head = readAmount(folded, 0, true)
  if (head !== null) {
    const name = trim(tokens.slice(head.end), folded.slice(head.end))
    if (name.length) return { name, qty: head.qty, unit: head.unit }
  }
  for (let start = 1; start < n; start++) {
    const tail = readTail(folded, start)
    if (tail !== null) {
      const name = trim(tokens.slice(0, start), folded.slice(0, start))
      if (name.length) return { name, qty: tail.qty, unit: tail.unit }
    }
  }
  return { name: trim(tokens, folded), qty: null, unit: null }
}

// parseEntry("полкило гречки") -> { name: "гречки", qty: 0.5, unit: "kg" }
// An entry without a quantity comes back with qty and unit null.
export function parseEntry (text) {
  const { name, qty, unit } = splitEntry(text)
  return { name: name.join(' ') || text.trim(), qty, unit }
}
