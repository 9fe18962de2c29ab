// The field app's service worker, scoped to /app/. The server stamps the version (a hash of
// the app's files) and the shell list into this template, so each release gets its own cache.
// The shell, the shared kit included, is served from the cache (the app opens without a
// network); the taxonomy and the basemap's style come from the network first, else the last
// copy. The basemap's tiles come from the cache the app fills with the walk's area at join
// (web/shared/map.js, cacheBasemap), else the network. Everything else under /api/ is left
// alone: the offline queue, not the service worker, deals with sending.
const VERSION = '__VERSION__';
const SHELL = __SHELL__;
const SHELL_CACHE = `safewalk-shell-${VERSION}`;
const DATA_CACHE = 'safewalk-data';
const RUNTIME_CACHE = 'safewalk-runtime'; // the map library, once the map has been opened
const BASEMAP_CACHE = 'safewalk-basemap';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith('safewalk-shell-') && k !== SHELL_CACHE).map((k) => caches.delete(k)),
      ))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request, cacheName, { anySearch = false } = {}) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = (await cache.match(request, { ignoreVary: true })) ||
      (anySearch && (await cache.match(request, { ignoreVary: true, ignoreSearch: true })));
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(request, cacheName) {
  const cached = await caches.match(request, { ignoreSearch: false });
  if (cached) return cached;
  if (!cacheName) {
    // A shell file asked for under another release's URL: the copy of this release.
    const shell = await (await caches.open(SHELL_CACHE)).match(request, { ignoreSearch: true });
    if (shell) return shell;
  }
  const response = await fetch(request);
  if (response.ok && cacheName) (await caches.open(cacheName)).put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === '/api/v1/categories') {
    event.respondWith(networkFirst(request, DATA_CACHE));
    return;
  }
  if (url.pathname === '/basemap/style.json') {
    // Offline, the style kept at join answers even if the page asks before it knows whose.
    event.respondWith(networkFirst(request, BASEMAP_CACHE, { anySearch: true }));
    return;
  }
  if (url.pathname.startsWith('/basemap/')) {
    event.respondWith(cacheFirst(request, BASEMAP_CACHE));
    return;
  }
  if (url.pathname.startsWith('/vendor/')) {
    event.respondWith(cacheFirst(request, RUNTIME_CACHE));
    return;
  }
  // The shared kit is part of the shell (precached with it).
  if (url.pathname.startsWith('/shared/')) {
    event.respondWith(cacheFirst(request, null));
    return;
  }
  if (!url.pathname.startsWith('/app/')) return;
  if (request.mode === 'navigate') {
    // Network first so a new release shows at once; the cached shell when offline.
    event.respondWith(
      fetch(request).catch(async () => (await caches.match('./', { ignoreSearch: true })) ||
        (await caches.match('index.html'))),
    );
    return;
  }
  event.respondWith(cacheFirst(request, null));
});
