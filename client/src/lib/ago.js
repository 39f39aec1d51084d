// "5 min. ago" in the UI language, from a past time in ms (Intl.RelativeTimeFormat).
// Kept apart from i18n.js so Node can test it without a browser.

const UNITS = [
  ['year', 365 * 24 * 3600e3],
  ['month', 30 * 24 * 3600e3],
  ['week', 7 * 24 * 3600e3],
  ['day', 24 * 3600e3],
  ['hour', 3600e3],
  ['minute', 60e3]
]

/**
 * How long ago `ms` was, as a phrase ("5 min. ago", "вчера"), or '' when it was less than a
 * minute ago (or is in the future: another clock running ahead), which the caller says as
 * "just now".
 */
export function formatAgo (ms, lang, now = Date.now()) {
  const elapsed = now - ms
  for (const [unit, size] of UNITS) {
    if (elapsed >= size) {
      const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' })
      return rtf.format(-Math.floor(elapsed / size), unit)
    }
  }
  return ''
}
