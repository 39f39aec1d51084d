// The activity feed: who did what and when, from GET /api/lists/{id}/activity. The server
// writes each entry's `summary` in the language asked for; this side only lays them out.
import { h } from './dom.js'
import { t, formatTime, currentLang } from '../lib/i18n.js'
import { getActivity } from '../lib/api.js'
import { panelDialog } from './dialogs.js'

export function openActivityDialog (session) {
  const list = h('ol.activity', { 'aria-live': 'polite' }, h('li.muted', {}, t('activity.loading')))
  let timer = 0
  async function refresh () {
    const data = await getActivity(session.listId, session.token, currentLang())
    const entries = (data?.activity || []).slice(0, 100)
    list.replaceChildren(...(entries.length
      ? entries.map((e) => h('li', {}, h('span', {}, e.summary), ' ', h('time.muted', {}, formatTime(e.at))))
      : [h('li.muted', {}, t('activity.empty'))]))
  }
  const off = session.on(() => { clearTimeout(timer); timer = setTimeout(refresh, 1000) })
  panelDialog(t('activity.title'), list, () => { off(); clearTimeout(timer) })
  refresh()
}
