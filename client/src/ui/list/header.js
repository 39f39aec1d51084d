// The list's header parts: its title (tap to rename), the sync state and who else is here.
import { h, syncChildren, setText } from '../dom.js'
import { t } from '../../lib/i18n.js'
import { readTitle, setTitle } from '../../lib/items.js'
import { userName } from '../../lib/profile.js'

// A peer's colour goes into a style attribute: only a plain #rrggbb, never other CSS.
const COLOR = /^#[0-9a-f]{6}$/i

export function makeHeader (view) {
  const { session, doc } = view
  const titleBtn = h('button.title-btn', {
    type: 'button', 'aria-describedby': 'rename-hint', onclick: startRename
  })
  const titleInput = h('input.title-input', {
    'aria-label': t('list.rename.label'), maxlength: 200, hidden: true,
    onkeydown (e) {
      if (e.key === 'Enter') { e.preventDefault(); finishRename(true) }
      if (e.key === 'Escape') { e.preventDefault(); finishRename(false) }
    },
    onblur: () => finishRename(true)
  })
  const titleBox = h('div.title-box', h('h1.title-h', titleBtn), titleInput,
    h('span.sr-only', { id: 'rename-hint' }, t('list.rename.hint')))
  function startRename () {
    if (session.readOnly) return
    titleInput.value = readTitle(doc) || session.record.title || ''
    titleBtn.hidden = true
    titleInput.hidden = false
    titleInput.focus()
    titleInput.select()
  }
  function finishRename (save) {
    if (titleInput.hidden) return
    if (save) setTitle(doc, titleInput.value)
    titleInput.hidden = true
    titleBtn.hidden = false
    titleBtn.focus()
  }

  const syncEl = h('span.sync', { role: 'status', 'aria-live': 'polite', dataset: { state: 'offline' } })
  const presenceEl = h('ul.presence', { 'aria-label': t('presence.label') })

  function renderTitle () {
    const title = readTitle(doc) || session.record.title || t('list.untitled')
    setText(titleBtn, title)
    titleBtn.disabled = session.readOnly
    titleBtn.setAttribute('aria-label', session.readOnly ? title : t('list.rename.button', { title }))
    document.title = `${title} · ${t('app.name')}`
  }

  function renderStatus () {
    const state = session.problem || session.state // revoked | deleted | offline | syncing | saved
    syncEl.dataset.state = state
    setText(syncEl, t(`sync.${state}`))
    syncEl.title = t(`sync.${state}.hint`)
    const peers = session.peers()
    const mine = userName()
    const me = { clientId: 'me', name: mine, color: '' }
    syncChildren(presenceEl, [me, ...peers].map((p) => {
      const label = p.clientId === 'me'
        ? (mine ? t('presence.me', { name: mine }) : t('presence.you'))
        : (p.name || t('presence.anon'))
      return h('li.avatar', { title: label, 'aria-label': label, style: COLOR.test(p.color) ? `--c:${p.color}` : null, dataset: p.clientId === 'me' ? { me: '1' } : null },
        ((p.clientId === 'me' ? mine || t('presence.you') : p.name) || '?').trim().charAt(0).toUpperCase() || '?')
    }))
    presenceEl.setAttribute('aria-label', t('presence.count', { n: peers.length + 1 }))
  }

  return { titleBox, syncEl, presenceEl, renderTitle, renderStatus }
}
