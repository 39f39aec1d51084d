// The person using this device: a display name chosen once, and a colour for presence.
const NAME_KEY = 'listok.name'
const COLOR_KEY = 'listok.color'
const PALETTE = ['#d9480f', '#2b8a3e', '#1971c2', '#9c36b5', '#c2255c', '#0c8599', '#e67700', '#5f3dc4']

export function userName () {
  return (localStorage.getItem(NAME_KEY) || '').trim()
}

export function setUserName (name) {
  localStorage.setItem(NAME_KEY, String(name).trim().slice(0, 40))
}

export function userColor () {
  let c = localStorage.getItem(COLOR_KEY)
  if (!c) {
    c = PALETTE[crypto.getRandomValues(new Uint8Array(1))[0] % PALETTE.length]
    localStorage.setItem(COLOR_KEY, c)
  }
  return c
}
