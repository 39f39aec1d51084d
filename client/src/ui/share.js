// The share dialog: copy an edit or a view link; list and revoke existing links. Shown only
// when the server answers GET /api/lists/{id}/shares (share links land with the API issue).
import { h } from './dom.js'
import { t, formatTime } from '../lib/i18n.js'
import { getShares, createShare, revokeShare } from '../lib/api.js'
import { shareUrl } from '../lib/links.js'
import { panelDialog } from './dialogs.js'

const sharesOf = (data) => (Array.isArray(data) ? data : (data && (data.shares || data.items)) || [])
const linkOf = (listId, s) =>
  s.url || (s.path ? location.origin + s.path : s.token ? shareUrl(listId, s.token) : '')

export function openShareDialog (session) {
  const { listId } = session
  const out = h('div.share-out')
  const existing = h('ul.shares')
  const status = h('p.muted', { role: 'status' })

  async function make (role) {
    const s = await createShare(listId, session.token, role)
    if (!s) { status.textContent = t('share.failed'); return }
    const url = linkOf(listId, s)
    const input = h('input', { readonly: true, value: url, 'aria-label': t(`share.link.${role}`) })
    out.replaceChildren(input)
    try {
      await navigator.clipboard.writeText(url)
      status.textContent = t('share.copied')
    } catch {
      input.select()
      status.textContent = t('share.copy.manual')
    }
    refresh()
  }

  async function refresh () {
    const shares = sharesOf(await getShares(listId, session.token)).filter((s) => s && s.role !== 'owner' && !s.revoked_at)
    existing.replaceChildren(...shares.map((s) => h('li.row',
      h('span.badge', {}, t(`role.${s.role}`)),
      h('span.grow.muted', {}, s.label || formatTime(s.created_at)),
      s.id ? h('button.danger', {
        type: 'button',
        'aria-label': t('share.revoke.label', { role: t(`role.${s.role}`) }),
        async onclick () { await revokeShare(listId, session.token, s.id); refresh() }
      }, t('share.revoke')) : null)))
  }

  panelDialog(t('share.title'), h('div.share',
    h('p', {}, t('share.help')),
    h('div.row',
      h('button.primary', { type: 'button', onclick: () => make('edit') }, t('share.copy.edit')),
      h('button', { type: 'button', onclick: () => make('view') }, t('share.copy.view'))),
    out, status,
    h('h3', {}, t('share.existing')), existing))
  refresh()
}
