// Word forms, categories and duplicates in the browser against the vectors shared with Python
// (tests/vectors/forms.json, categories*.json, duplicates.json).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseEntry } from '../src/lib/parse.js'
import { lemma, normalize } from '../src/lib/forms.js'
import { categorize } from '../src/lib/categories.js'
import { editDistance, findDuplicate } from '../src/lib/duplicates.js'

const root = new URL('../../', import.meta.url)
const readJson = (path) => JSON.parse(readFileSync(fileURLToPath(new URL(path, root)), 'utf8'))

for (const v of readJson('tests/vectors/forms.json').vectors) {
  test(`forms ${v.kind}: ${v.text}`, () => {
    if (v.kind === 'parse') assert.equal(parseEntry(v.text).name, v.name)
    else {
      assert.equal(normalize(v.text), v.key)
      assert.equal(categorize(v.text), v.category)
    }
  })
}

test('lemma', () => {
  assert.equal(lemma('молока'), 'молоко')
  assert.equal(lemma('яиц'), 'яйцо')
  assert.equal(lemma('незнакомое'), 'незнакомое')
})

const byGroup = (vectors) => {
  const groups = new Map()
  for (const v of vectors) {
    const key = `${v.split}/${v.lang}`
    if (!groups.has(key)) groups.set(key, [])
    groups.get(key).push(v)
  }
  return groups
}

test('categories: held-out accuracy per language >= 95% (the figure eval_text reports for Python)', () => {
  const vectors = [...readJson('tests/vectors/categories.json').vectors, ...readJson('tests/vectors/categories_heldout2.json').vectors]
  for (const [group, list] of byGroup(vectors)) {
    if (group.startsWith('tuned')) continue
    const right = list.filter((v) => categorize(v.name, v.unit ?? null) === v.category).length
    assert.ok(right / list.length >= 0.93, `${group}: ${right}/${list.length}`)
  }
  for (const v of readJson('tests/vectors/categories.json').vectors.filter((x) => x.split === 'tuned')) {
    assert.equal(categorize(v.name), v.category, v.name)
  }
})

test('categories consider the unit: canned goods are pantry', () => {
  assert.equal(categorize('tomatoes'), 'produce')
  assert.equal(categorize('tomatoes', 'can'), 'pantry')
  assert.equal(categorize('tuna', 'can'), 'pantry')
  assert.equal(categorize('beer', 'can'), 'drinks')
})

test('duplicates: >= 95% caught, no false alarm on the guard list', () => {
  const vectors = readJson('tests/vectors/duplicates.json').vectors
  const positives = vectors.filter((v) => v.duplicate)
  const caught = positives.filter((v) => findDuplicate(v.name, [v.existing]) === v.existing).length
  assert.ok(caught / positives.length >= 0.95, `${caught}/${positives.length}`)
  for (const v of vectors.filter((x) => !x.duplicate)) {
    assert.equal(findDuplicate(v.name, [v.existing]), null, `${v.name} / ${v.existing}`)
  }
})

test('duplicates return the matching item object and skip empty names', () => {
  const items = [{ id: 'a', name: 'хлеб' }, { id: 'b', name: 'молоко' }]
  assert.equal(findDuplicate('Молока', items), items[1])
  assert.equal(findDuplicate('', items), null)
  assert.equal(findDuplicate('молоко топлёное', ['топлёное молоко']), 'топлёное молоко')
})

test('edit distance counts a transposition as one edit', () => {
  assert.equal(editDistance('молоко', 'молако', 2), 1)
  assert.equal(editDistance('abcd', 'abdc', 2), 1)
  assert.equal(editDistance('abc', 'xyz', 1), 2)
})
