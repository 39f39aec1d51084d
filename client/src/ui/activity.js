// The activity feed: who did what and when. Shown only when the server answers
// GET /api/lists/{id}/activity. Entries are read defensively: the server's shape may grow.
import { h } from './dom.js'
import { t, formatTime, currentLang } from '../lib/i18n.js'
import { getActivity } from '../lib/api.js'
import { panelDialog } from './dialogs.js'

const entriesOf = (data) => (Array.isArray(data) ? data : (data && (data.activity || data.events || data.items)) || [])

/** In the UI language when the event type is known here, else the server's own summary. */
export function describe (e) {
  const who = e.actor || e.by || e.role || t('presence.anon')
  const what = e.name || (e.item && e.item.name) || ''
  const type = String(e.type || '')
  const text = t(`activity.${type}`, { who, what, title: e.title || '' })
  if (text !== `activity.${type}`) return text
  return String(e.summary || e.text || `${who}: ${type} ${what}`).trim()
}

export function openActivityDialog (session) {
  const list = h('ol.activity', { 'aria-live': 'polite' }, h('li.muted', {}, t('activity.loading')))
  let timer = 0
  async function refresh () {
    const entries = entriesOf(await getActivity(session.listId, session.token, currentLang())).slice(0, 100)
    list.replaceChildren(...(entries.length
      ? entries.map((e) => {
        const at = e.at || e.ts || e.time || e.created_at
        const ms = typeof at === 'number' ? (at < 1e12 ? at * 1000 : at) : Date.parse(at)
        return h('li', {}, h('span', {}, describe(e)), ' ', h('time.muted', {}, Number.isFinite(ms) ? formatTime(ms) : ''))
      })
      : [h('li.muted', {}, t('activity.empty'))]))
  }
  const off = session.on(() => { clearTimeout(timer); timer = setTimeout(refresh, 1000) })
  panelDialog(t('activity.title'), list, () => { off(); clearTimeout(timer) })
  refresh()
}
