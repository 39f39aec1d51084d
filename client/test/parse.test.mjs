// The browser parser against the shared vectors (tests/vectors/parse.json, parse_heldout2.json)
// and the shared vocabulary (models/data/units.json). JS compares name (the nominative comes
// from the generated form table), raw name, qty and unit, as Python does.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { VOCABULARY, parseEntry, parseNumber, tokenize } from '../src/lib/parse.js'

const root = new URL('../../', import.meta.url)
const readJson = (path) => JSON.parse(readFileSync(fileURLToPath(new URL(path, root)), 'utf8'))
const { vectors } = readJson('tests/vectors/parse.json')
const heldout2 = readJson('tests/vectors/parse_heldout2.json').vectors
const units = readJson('models/data/units.json')

test('the vectors are there, in both languages and all splits', () => {
  const groups = new Set([...vectors, ...heldout2].map((v) => `${v.split}/${v.lang}`))
  assert.deepEqual([...groups].sort(), ['heldout/en', 'heldout/ru', 'heldout2/en', 'heldout2/ru', 'tuned/en', 'tuned/ru'])
  assert.ok(vectors.length >= 150)
  assert.ok(heldout2.length >= 80)
})

test('the JS vocabulary is the shared one', () => {
  const { about, ...shared } = units
  assert.ok(about)
  assert.deepEqual(VOCABULARY, shared)
})

for (const vector of [...vectors, ...heldout2]) {
  test(`${vector.split} ${vector.lang}: ${vector.text}`, () => {
    const parsed = parseEntry(vector.text)
    assert.equal(parsed.rawName, vector.raw_name)
    assert.equal(parsed.name, vector.name)
    assert.equal(parsed.unit, vector.unit)
    if (vector.qty === null) assert.equal(parsed.qty, null)
    else assert.ok(Math.abs(parsed.qty - vector.qty) < 1e-9, `qty ${parsed.qty} != ${vector.qty}`)
  })
}

test('numbers', () => {
  assert.equal(parseNumber('1,5'), 1.5)
  assert.equal(parseNumber('1/2'), 0.5)
  assert.equal(parseNumber('½'), 0.5)
  assert.equal(parseNumber('1/0'), null)
  assert.equal(parseNumber('2%'), null)
})

test('tokens', () => {
  assert.deepEqual(tokenize('2кг картошки'), ['2', 'кг', 'картошки'])
  assert.deepEqual(tokenize('йогурт x4'), ['йогурт', 'x', '4'])
  assert.deepEqual(tokenize('7up, (2 L)'), ['7up', ',', '2', 'L'])
  assert.deepEqual(tokenize('сыр 300 гр.'), ['сыр', '300', 'гр'])
  assert.deepEqual(tokenize('12 fl oz lemonade'), ['12', 'fl oz', 'lemonade'])
})

test('names alone stay names, punctuation and brackets kept', () => {
  for (const text of ['пакеты для мусора', 'can opener', 'банки для консервирования', 'cheese, grated', 'eggs (free range)', '«Простоквашино»']) {
    const { category, ...rest } = parseEntry(text)
    assert.ok(category)
    assert.deepEqual(rest, { name: text, qty: null, unit: null, rawName: text })
  }
})

test('2 pairs of gloves is two pairs, not four pieces', () => {
  assert.deepEqual(parseEntry('2 pairs gloves'), { name: 'gloves', qty: 2, unit: 'pair', rawName: 'gloves', category: 'household' })
})

test('the category comes with the entry and considers the unit', () => {
  assert.equal(parseEntry('3 cans of tomatoes').category, 'pantry')
  assert.equal(parseEntry('tomatoes 1 kg').category, 'produce')
  assert.equal(parseEntry('2 пачки Ролтон').category, 'pantry')
})
