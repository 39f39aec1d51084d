// The browser parser against the shared vectors (tests/vectors/parse.json) and the shared
// vocabulary (models/data/units.json). JS compares qty, unit and the name as typed (raw_name);
// the nominative `name` needs Russian morphology and is checked on the Python side only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { VOCABULARY, parseEntry, parseNumber, tokenize } from '../src/lib/parse.js'

const root = new URL('../../', import.meta.url)
const readJson = (path) => JSON.parse(readFileSync(fileURLToPath(new URL(path, root)), 'utf8'))
const { vectors } = readJson('tests/vectors/parse.json')
const units = readJson('models/data/units.json')

test('the vectors are there, in both languages and both splits', () => {
  const groups = new Set(vectors.map((v) => `${v.split}/${v.lang}`))
  assert.deepEqual([...groups].sort(), ['heldout/en', 'heldout/ru', 'tuned/en', 'tuned/ru'])
  assert.ok(vectors.length >= 150)
})

test('the JS vocabulary is the shared one', () => {
  const { about, ...shared } = units
  assert.ok(about)
  assert.deepEqual(VOCABULARY, shared)
})

for (const vector of vectors) {
  test(`${vector.split} ${vector.lang}: ${vector.text}`, () => {
    const parsed = parseEntry(vector.text)
    assert.equal(parsed.name, vector.raw_name)
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
})

test('names alone stay names', () => {
  for (const text of ['пакеты для мусора', 'can opener', '2 kg', 'банки для консервирования', 'x']) {
    assert.deepEqual(parseEntry(text), { name: text, qty: null, unit: null })
  }
})
