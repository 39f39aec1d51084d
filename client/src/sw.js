/* Listok service worker: keeps the app shell so the app opens with no network.
   Lists themselves live in IndexedDB (y-indexeddb); the API and the sync socket are never
   cached. build.mjs fills in VERSION and SHELL. */
const VERSION = '__VERSION__'
const SHELL = __SHELL__
const CACHE = `listok-shell-${VERSION}`
const PASS_THROUGH = /^\/(api|sync|healthz|metrics|admin)(\/|$)/

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' }))))
      .then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((k) => k.startsWith('listok-shell-') && k !== CACHE)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim()))
})

self.addEventListener('fetch', (event) => {
  const req = event.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (url.origin !== self.location.origin || PASS_THROUGH.test(url.pathname)) return
  if (req.mode === 'navigate') {
    // Every app path is the same single page: answer from the cache at once (a shop with
    // one bar of signal must not wait for the network), fall back to the network.
    event.respondWith(caches.match('/', { cacheName: CACHE }).then((hit) => hit || fetch(req)))
    return
  }
  event.respondWith(caches.match(req, { cacheName: CACHE }).then((hit) => hit || fetch(req)))
})
