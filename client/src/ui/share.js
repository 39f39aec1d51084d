// The share dialog (owner): whom a link is for (label) and what it allows (role); a role's
// link is reused unless a new one is asked for; copy, the native share sheet and a QR code;
// the links in use, with when each was last used, each revoked after a confirmation.
//
// The server keeps only a hash of each token, so a link can be shown again only on the
// device that made it: those tokens are kept in this device's list record (`links`). The last
// list of links fetched is kept there too (`shares`, no tokens), so offline the dialog shows it.
import encodeQR from 'qr'
import { h } from './dom.js'
import { t, formatTime, formatSince } from '../lib/i18n.js'
import { getShares, createShare, revokeShare } from '../lib/api.js'
import { shareUrl } from '../lib/links.js'
import { getList, upsertList } from '../lib/registry.js'
import { panelDialog, confirmDialog } from './dialogs.js'

const ROLES = ['edit', 'view', 'owner']
const SVG = 'http://www.w3.org/2000/svg'

/** A QR code of `text` as an inline SVG (built from the module matrix, no markup strings). */
export function qrCode (text, label) {
  const matrix = encodeQR(text, 'raw', { border: 2 })
  const n = matrix.length
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${n} ${n}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', label)
  svg.classList.add('qr')
  const bg = document.createElementNS(SVG, 'rect')
  bg.setAttribute('width', n)
  bg.setAttribute('height', n)
  bg.setAttribute('fill', '#fff')
  let d = ''
  matrix.forEach((line, y) => line.forEach((on, x) => { if (on) d += `M${x} ${y}h1v1h-1z` }))
  const path = document.createElementNS(SVG, 'path')
  path.setAttribute('d', d)
  path.setAttribute('fill', '#000')
  svg.append(bg, path)
  return svg
}

export function openShareDialog (session) {
  const { listId } = session
  const known = () => getList(listId)?.links || {}
  const remember = (id, token) => upsertList(listId, { links: { ...known(), [id]: token } })

  const role = h('select', { id: 'share-role', name: 'role' },
    ROLES.map((r) => h('option', { value: r }, t(`share.role.${r}`))))
  const label = h('input', { id: 'share-label', name: 'label', maxlength: 80, autocomplete: 'off', placeholder: t('share.for.placeholder') })
  const status = h('p.muted', { role: 'status' })
  const out = h('div.share-out')
  const existing = h('ul.shares')
  const stale = h('p.muted.share-stale')
  let shares = getList(listId)?.shares || []

  async function get (fresh) {
    const want = role.value
    const name = label.value.trim()
    // Reuse: an active link of this role (and label, when one is given) made on this device.
    const reuse = !fresh && shares.find((s) => s.role === want && !s.revoked_at && known()[s.id] &&
      (!name || s.label === name))
    let token = reuse ? known()[reuse.id] : null
    let shown = reuse
    if (!token) {
      out.replaceChildren() // never leave the previous link to be copied while the new one comes
      const s = await createShare(listId, session.token, want, name)
      if (!s) { status.textContent = t('share.failed'); return }
      remember(s.id, s.token)
      token = s.token
      shown = s
    }
    showLink(shown, shareUrl(listId, token))
    refresh()
  }

  function showLink (s, url) {
    const title = s.label || t(`share.role.${s.role}`)
    const input = h('input', { readonly: true, value: url, 'aria-label': t('share.link', { who: title }) })
    const copy = h('button.primary', {
      type: 'button',
      async onclick () {
        try {
          await navigator.clipboard.writeText(url)
          status.textContent = t('share.copied')
        } catch {
          input.select()
          status.textContent = t('share.copy.manual')
        }
      }
    }, t('share.copy'))
    const native = navigator.share
      ? h('button', {
        type: 'button',
        onclick: () => navigator.share({ title: t('share.sheet.title'), url }).catch(() => {})
      }, t('share.sheet'))
      : null
    out.replaceChildren(input, h('div.row', copy, native),
      h('figure.qr-box', qrCode(url, t('share.qr', { who: title })), h('figcaption.muted', {}, t('share.qr.help'))))
    status.textContent = ''
  }

  async function refresh () {
    const data = await getShares(listId, session.token)
    if (data) {
      shares = data.shares || []
      upsertList(listId, { shares })
      stale.textContent = ''
    } else {
      shares = getList(listId)?.shares || shares
      stale.textContent = t('share.offline')
    }
    render()
  }

  function render () {
    const active = shares.filter((s) => !s.revoked_at).slice(1) // the first is this list's own owner token
    existing.replaceChildren(...(active.length
      ? active.map((s) => {
        const who = s.label || t('share.unlabelled')
        return h('li.row',
          h('span.grow', {}, h('span.share-who', {}, who), h('span.badge', {}, t(`role.${s.role}`)),
            h('br'), h('span.muted', {}, t('share.made', { when: formatTime(s.created_at) })),
            h('br'), lastUse(s)),
          h('button.danger', {
            type: 'button',
            'aria-label': t('share.revoke.label', { who, role: t(`role.${s.role}`) }),
            async onclick () {
              const ok = await confirmDialog(t('share.revoke.confirm', { who, role: t(`role.${s.role}`) }), t('share.revoke'))
              if (!ok) return
              await revokeShare(listId, session.token, s.id)
              refresh()
            }
          }, t('share.revoke')))
      })
      : [h('li.muted', {}, t('share.none'))]))
  }

  function lastUse (s) {
    if (!s.last_used_at) return h('span.share-used.muted', {}, t('share.unused'))
    const ago = formatSince(s.last_used_at)
    return h('span.share-used.muted', { title: formatTime(s.last_used_at) },
      ago ? t('share.used', { when: ago }) : t('share.used.now'))
  }

  panelDialog(t('share.title'), h('div.share',
    h('p', {}, t('share.help')),
    h('div.field', h('label', { for: 'share-label' }, t('share.for')), label),
    h('div.field', h('label', { for: 'share-role' }, t('share.allows')), role),
    h('div.row',
      h('button.primary', { type: 'button', onclick: () => get(false) }, t('share.get')),
      h('button', { type: 'button', onclick: () => get(true) }, t('share.new'))),
    status, out,
    h('h3', {}, t('share.existing')), stale, existing), () => clearInterval(ticking))
  const ticking = setInterval(render, 30_000) // "used 5 min. ago" moves on while it is open
  render()
  refresh()
}
