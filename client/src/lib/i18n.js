// UI messages live in src/i18n/*.json; this module picks the language and formats them.
// A message is a string with {placeholders}, or a plural object keyed by Intl.PluralRules
// categories (one/few/many/other) selected by the `n` placeholder.
import en from '../i18n/en.json'
import ru from '../i18n/ru.json'
import { formatAgo } from './ago.js'

export const MESSAGES = { en, ru }
export const LANGS = Object.keys(MESSAGES)
const KEY = 'listok.lang'
const listeners = new Set()
let lang = detect()

function detect () {
  const saved = localStorage.getItem(KEY)
  if (saved && MESSAGES[saved]) return saved
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || 'en']
  for (const l of wanted) {
    const base = String(l).toLowerCase().split('-')[0]
    if (MESSAGES[base]) return base
  }
  return 'en'
}

export const currentLang = () => lang

export function setLang (l) {
  if (!MESSAGES[l] || l === lang) return
  lang = l
  localStorage.setItem(KEY, l)
  document.documentElement.lang = l
  for (const fn of listeners) fn(l)
}

export function onLangChange (fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

export function t (key, vars = {}) {
  let msg = MESSAGES[lang][key] ?? MESSAGES.en[key]
  if (msg == null) return key
  if (typeof msg === 'object') {
    const cat = new Intl.PluralRules(lang).select(Number(vars.n ?? 0))
    msg = msg[cat] ?? msg.other
  }
  return msg.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`))
}

/** A unit code from the parser ("kg", "pack") in the UI language; anything else as typed. */
export function formatUnit (unit, n) {
  if (!unit) return ''
  const key = `unit.${unit}`
  return MESSAGES[lang][key] != null || MESSAGES.en[key] != null ? t(key, { n: n ?? 1 }) : unit
}

export function formatTime (ms) {
  if (!ms) return ''
  return new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(ms))
}

/** "5 min. ago" in the UI language; '' under a minute (say "just now"). */
export const formatSince = (ms) => formatAgo(ms, lang)

export function formatQty (n) {
  return n == null ? '' : new Intl.NumberFormat(lang, { maximumFractionDigits: 3 }).format(n)
}
