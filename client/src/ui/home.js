// Home: the lists this device knows, create a list (works offline), open a shared link,
// leave a list, choose the name others see.
import { h } from './dom.js'
import { t } from '../lib/i18n.js'
import { allLists, getList, upsertList, removeList, onListsChange } from '../lib/registry.js'
import { newListId, newToken } from '../lib/ids.js'
import { parseListLink, listPath } from '../lib/links.js'
import { userName, setUserName } from '../lib/profile.js'
import { dbName } from '../lib/session.js'
import { confirmDialog } from './dialogs.js'
import { getShares } from '../lib/api.js'

export function renderHome (root, { navigate }) {
  const listEl = h('ul.lists', { 'aria-labelledby': 'lists-h' })

  const titleInput = h('input', {
    id: 'new-list', name: 'title', required: true, maxlength: 200, autocomplete: 'off',
    placeholder: t('home.new.placeholder')
  })
  const createForm = h('form.row', {
    onsubmit (e) {
      e.preventDefault()
      const title = titleInput.value.trim()
      if (!title) return
      const id = newListId()
      upsertList(id, { title, token: newToken(), pendingCreate: true, role: 'owner', openedAt: Date.now() })
      navigate(listPath(id))
    }
  }, h('label.sr-only', { for: 'new-list' }, t('home.new.label')), titleInput,
  h('button.primary', { type: 'submit' }, t('home.new.submit')))

  const linkInput = h('input', {
    id: 'open-link', name: 'link', autocomplete: 'off', placeholder: t('home.open.placeholder')
  })
  const linkError = h('p.error', { id: 'open-link-error', role: 'alert' })
  const openForm = h('form.row', {
    onsubmit (e) {
      e.preventDefault()
      const link = parseListLink(linkInput.value)
      if (!link) { linkError.textContent = t('home.open.invalid'); return }
      openShared(link, navigate)
    }
  }, h('label.sr-only', { for: 'open-link' }, t('home.open.label')), linkInput,
  h('button', { type: 'submit' }, t('home.open.submit')))

  const nameInput = h('input', {
    id: 'your-name', name: 'name', maxlength: 40, autocomplete: 'nickname', value: userName(),
    placeholder: t('name.placeholder')
  })
  const nameSaved = h('span.muted', { role: 'status' })
  const nameForm = h('form.row', {
    onsubmit (e) {
      e.preventDefault()
      setUserName(nameInput.value)
      nameSaved.textContent = t('name.saved')
    }
  }, h('label.sr-only', { for: 'your-name' }, t('name.label')), nameInput,
  h('button', { type: 'submit' }, t('name.save')), nameSaved)

  // A list deleted a moment ago: hidden here, with an undo until main.js sends the delete.
  const toastEl = h('div.toast', { role: 'status', hidden: true })
  let toastFor = null
  function drawToast (deleting) {
    const r = deleting[0]
    toastEl.hidden = !r
    if (!r || toastFor === r.id) return
    toastFor = r.id
    toastEl.replaceChildren(h('span', {}, t('list.delete.done', { title: r.title || t('list.untitled') })),
      h('button', {
        type: 'button',
        onclick () { upsertList(r.id, { pendingDelete: null }); toastFor = null }
      }, t('action.undo')))
  }

  function drawLists () {
    const all = allLists()
    const lists = all.filter((r) => !r.pendingDelete)
    listEl.replaceChildren(...(lists.length
      ? lists.map((r) => listCard(r, navigate))
      : [h('li.empty', {}, t('home.empty'))]))
    drawToast(all.filter((r) => r.pendingDelete && r.pendingDelete > Date.now()))
  }
  drawLists()
  const off = onListsChange(drawLists)

  root.replaceChildren(h('div.home',
    h('section.card', { 'aria-labelledby': 'lists-h' },
      h('h1', { id: 'lists-h' }, t('home.title')),
      createForm,
      listEl),
    h('section.card', { 'aria-labelledby': 'open-h' },
      h('h2', { id: 'open-h' }, t('home.open.title')), openForm, linkError),
    h('section.card', { 'aria-labelledby': 'name-h' },
      h('h2', { id: 'name-h' }, t('name.title')),
      h('p.muted', {}, t('name.help')), nameForm),
    toastEl
  ))
  return { destroy: off, title: t('app.name') }
}

function listCard (r, navigate) {
  const count = r.count || 0
  const left = count - (r.done || 0)
  const title = r.title || t('list.untitled')
  return h('li.list-card', { dataset: { listId: r.id } },
    h('a.list-link', {
      href: listPath(r.id),
      onclick (e) {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return
        e.preventDefault()
        navigate(listPath(r.id))
      }
    },
    h('span.list-title', {}, title),
    h('span.list-meta', {},
      count ? t('home.count', { n: count, left }) : t('home.count.none'),
      r.pendingCreate ? h('span.badge', {}, t('home.pending')) : null,
      r.role === 'view' && !r.access ? h('span.badge', {}, t('role.view')) : null,
      r.access ? h('span.badge.warn', {}, t(`home.${r.access}`)) : null)),
    h('button.icon.ghost', {
      type: 'button',
      'aria-label': t('home.leave.label', { title }),
      title: t('home.leave.label', { title }),
      async onclick () {
        const owner = r.role === 'owner' && !r.access && !r.pendingCreate && !(await otherOwners(r))
        const ok = owner
          ? await confirmDialog(t('home.leave.owner', { title }), t('home.leave.anyway'))
          : await confirmDialog(t('home.leave.confirm', { title }), t('home.leave.ok'))
        if (!ok) return
        removeList(r.id)
        try { indexedDB.deleteDatabase(dbName(r.id)) } catch { /* nothing stored */ }
      }
    }, '✕'))
}

/** Whether owner links besides the list's first one exist (another owner device may use one). */
async function otherOwners (r) {
  const data = await getShares(r.id, r.token)
  const owners = (data?.shares || []).filter((s) => s.role === 'owner' && !s.revoked_at)
  return owners.length > 1
}

/**
 * Remembers a shared link's token with the list. A role belongs to a token: a new token drops
 * the role stored with the old one (until the server says, the list is only shown). A role
 * written in the link is believed only when it is "view": it can hide controls, never add them.
 */
export function openShared ({ listId, token, role }, navigate) {
  const known = getList(listId)
  const patch = { openedAt: Date.now() }
  // A new link replaces the device's token and what it knew with the old one: its role, and a
  // "no access" mark (a revoked person given a fresh link can edit again). An owner device keeps
  // its owner token: opening a lesser link of its own list must not cost it the list.
  const keepOwner = known?.role === 'owner' && !known.access
  if (token && token !== known?.token && !keepOwner) {
    Object.assign(patch, { token, role: role === 'view' ? 'view' : null, access: null })
  }
  upsertList(listId, patch)
  navigate(listPath(listId))
}
