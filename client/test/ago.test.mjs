// The share dialog's "used 5 min. ago": the unit steps and both languages.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatAgo } from '../src/lib/ago.js'

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0)
const MIN = 60e3

test('under a minute, or a clock ahead of ours, is "just now" (empty)', () => {
  assert.equal(formatAgo(NOW, 'en', NOW), '')
  assert.equal(formatAgo(NOW - 59e3, 'en', NOW), '')
  assert.equal(formatAgo(NOW + 5 * MIN, 'ru', NOW), '')
})

test('minutes, hours, days, weeks, months, years, in English and Russian', () => {
  const cases = [
    [5 * MIN, '5 min. ago', '5 мин. назад'],
    [59 * MIN, '59 min. ago', '59 мин. назад'],
    [2 * 60 * MIN, '2 hr. ago', '2 ч назад'],
    [25 * 60 * MIN, 'yesterday', 'вчера'],
    [3 * 24 * 60 * MIN, '3 days ago', '3 дн. назад'],
    [15 * 24 * 60 * MIN, '2 wk. ago', '2 нед. назад'],
    [65 * 24 * 60 * MIN, '2 mo. ago', '2 мес. назад'],
    [400 * 24 * 60 * MIN, 'last yr.', 'в прошлом г.']
  ]
  for (const [ago, en, ru] of cases) {
    assert.equal(formatAgo(NOW - ago, 'en', NOW), en)
    assert.equal(formatAgo(NOW - ago, 'ru', NOW), ru)
  }
})
