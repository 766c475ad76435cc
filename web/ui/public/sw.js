// Wardmail's service worker: only the offline page. When opening the
// webmail fails for want of a network, the page says "you are offline"
// instead of the browser's error. Nothing else is cached: mail stays on the
// server (a shared ward device keeps no copy), and every other request goes
// to the network as if there were no worker.
const CACHE = 'wardmail-offline-1'
const OFFLINE = ['/offline.html', '/offline.css', '/icon-192.png']

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(OFFLINE)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()))
})

self.addEventListener('fetch', (e) => {
  const req = e.request
  if (req.mode === 'navigate') {
    e.respondWith(fetch(req).catch(() => caches.match('/offline.html')))
  } else if (OFFLINE.includes(new URL(req.url).pathname)) {
    e.respondWith(fetch(req).catch(() => caches.match(req)))
  }
})
