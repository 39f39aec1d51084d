// The suggestions panel's logic: reasons worded from the server's fields in either language,
// what is shown, dismissed names per list, the offline copy, and asking again while the model
// works.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import {
  reasonOf, visible, keyOf, readDismissed, dismiss, readCached, writeCached, askAgain, SHOWN, PENDING_TRIES
} from '../src/lib/suggest.js'

const MESSAGES = Object.fromEntries(['en', 'ru'].map((lang) =>
  [lang, JSON.parse(readFileSync(new URL(`../src/i18n/${lang}.json`, import.meta.url), 'utf8'))]))

/** i18n's t() over the real message files (the module itself imports JSON, which Node won't). */
function translator (lang) {
  return (key, vars = {}) => {
    let msg = MESSAGES[lang][key]
    assert.ok(msg != null, `${lang}: ${key} is missing`)
    if (typeof msg === 'object') msg = msg[new Intl.PluralRules(lang).select(Number(vars.n ?? 0))] ?? msg.other
    return msg.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]))
  }
}

class Storage {
  constructor () { this.data = new Map() }
  getItem (k) { return this.data.has(k) ? this.data.get(k) : null }
  setItem (k, v) { this.data.set(k, String(v)) }
}

const due = { name: 'coffee', source: 'history', reason: 'x', every_days: 7, last_days: 9 }
const together = { name: 'eggs', source: 'together', reason: 'x', with: ['milk', 'bread'] }

test('reasons in English', () => {
  const t = translator('en')
  assert.equal(reasonOf(due, t), 'due again: usually every 7 days, last bought 9 days ago')
  assert.equal(reasonOf({ ...due, every_days: 1, last_days: 1 }, t), 'due again: usually every day, last bought 1 day ago')
  assert.equal(reasonOf(together, t), 'usually with milk, bread')
  assert.equal(reasonOf({ name: 'beets', source: 'together', reason: 'x', dish: 'borscht' }, t), 'goes with borscht')
  assert.equal(reasonOf({ name: 'toast', source: 'together', reason: 'x', occasion: 'breakfast' }, t), 'for breakfast')
  assert.equal(reasonOf({ name: 'beets', source: 'dish', reason: 'x', dish: 'borscht', servings: 6 }, t), 'for borscht')
  assert.equal(reasonOf({ name: 'tea', source: 'model', reason: 'x' }, t), 'suggested by the model')
  assert.equal(reasonOf({ name: 'tea', source: 'other', reason: 'the server says' }, t), 'the server says')
  assert.equal(reasonOf({ name: 'tea', source: 'other' }, t), 'often bought')
})

test('reasons in Russian: no declined names, plural days', () => {
  const t = translator('ru')
  assert.equal(reasonOf(due, t), 'пора снова: обычно раз в 7 дней, последний раз 9 дней назад')
  assert.equal(reasonOf({ ...due, every_days: 3, last_days: 21 }, t), 'пора снова: обычно раз в 3 дня, последний раз 21 день назад')
  assert.equal(reasonOf({ ...together, with: ['молоко', 'хлеб'] }, t), 'обычно берут вместе: молоко, хлеб')
  assert.equal(reasonOf({ name: 'свёкла', source: 'together', reason: 'x', dish: 'борщ' }, t), 'к блюду «борщ»')
  assert.equal(reasonOf({ name: 'лук', source: 'together', reason: 'x', occasion: 'продукты на неделю' }, t), 'из набора «продукты на неделю»')
  assert.equal(reasonOf({ name: 'чай', source: 'model', reason: 'x' }, t), 'подсказала модель')
})

test('every message the panel uses exists in both languages with the same placeholders', () => {
  const keys = Object.keys(MESSAGES.en).filter((k) => k.startsWith('suggest.'))
  assert.ok(keys.length >= 12)
  const holes = (m) => JSON.stringify(m).match(/\{\w+\}/g)?.sort().filter((x, i, a) => a.indexOf(x) === i)
  for (const k of keys) assert.deepEqual(holes(MESSAGES.ru[k]), holes(MESSAGES.en[k]), k)
})

test('shown: not dismissed, not open on the list, one per name, at most SHOWN', () => {
  const many = Array.from({ length: 10 }, (_, i) => ({ name: `item ${i}`, source: 'together' }))
  assert.equal(visible(many).length, SHOWN)
  const list = [together, { ...together, name: 'Eggs' }, due, { name: 'Ёж' }, { name: '' }, null, { name: 7 }]
  const shown = visible(list, { dismissed: new Set(['еж']), isOpen: (n) => n === 'coffee' })
  assert.deepEqual(shown.map((s) => s.name), ['eggs'])
})

test('dismissed names are kept per list, newest last, bounded', () => {
  const storage = new Storage()
  dismiss(storage, 'a', ' Молоко ')
  dismiss(storage, 'a', 'Ёжик')
  assert.deepEqual([...readDismissed(storage, 'a')], ['молоко', 'ежик'])
  assert.equal(readDismissed(storage, 'b').size, 0)
  for (let i = 0; i < 150; i++) dismiss(storage, 'a', `n${i}`)
  const kept = [...readDismissed(storage, 'a')]
  assert.equal(kept.length, 100)
  assert.equal(kept.at(-1), 'n149')
  storage.setItem('listok.suggest.hidden.c', '{broken')
  assert.equal(readDismissed(storage, 'c').size, 0)
  assert.equal(keyOf('  Ёлка  Зелёная '), 'елка зеленая')
})

test('the last answer is kept for offline', () => {
  const storage = new Storage()
  assert.equal(readCached(storage, 'a'), null)
  writeCached(storage, 'a', [together, due], 123)
  assert.deepEqual(readCached(storage, 'a'), { at: 123, suggestions: [together, due] })
  storage.setItem('listok.suggest.last.b', '{"suggestions": "no"}')
  assert.equal(readCached(storage, 'b'), null)
})

test('asks again only while the model is pending, a few times', () => {
  assert.equal(askAgain('pending', 0), true)
  assert.equal(askAgain('pending', PENDING_TRIES), false)
  for (const model of ['absent', 'cached', 'loading', 'failed', undefined]) assert.equal(askAgain(model, 0), false)
})
