// Modal dialogs on the native <dialog> element (focus trapping and Esc for free).
import { h } from './dom.js'
import { t } from '../lib/i18n.js'

export function confirmDialog (message, okLabel) {
  return new Promise((resolve) => {
    const dlg = h('dialog.dialog', { 'aria-label': message },
      h('form', { method: 'dialog' },
        h('p', {}, message),
        h('div.actions',
          h('button', { value: 'cancel' }, t('action.cancel')),
          h('button.danger', { value: 'ok' }, okLabel))))
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok') })
    document.body.append(dlg)
    dlg.showModal()
  })
}

export function panelDialog (title, body, onClose) {
  const dlg = h('dialog.dialog.panel', { 'aria-labelledby': 'panel-h' },
    h('div.panel-head',
      h('h2', { id: 'panel-h' }, title),
      h('button.icon.ghost', { type: 'button', 'aria-label': t('action.close'), onclick: () => dlg.close() }, '✕')),
    body)
  dlg.addEventListener('close', () => { dlg.remove(); onClose?.() })
  document.body.append(dlg)
  dlg.showModal()
  return dlg
}

/**
 * A question with several answers: resolves to the chosen value, or null on Esc/cancel.
 * `choices` are [{value, label, primary?}], shown in order, the last one first on a phone.
 */
export function choiceDialog (message, choices, { className = '' } = {}) {
  return new Promise((resolve) => {
    const text = h('p', { id: 'choice-msg' }, message)
    const dlg = h(`dialog.dialog${className ? '.' + className : ''}`, { 'aria-labelledby': 'choice-msg' },
      h('form', { method: 'dialog' }, text,
        h('div.actions.choices', choices.map((c) =>
          h(c.primary ? 'button.primary' : 'button', { value: c.value }, c.label)))))
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue || null) })
    document.body.append(dlg)
    dlg.showModal()
  })
}
