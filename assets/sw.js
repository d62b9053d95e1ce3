/* Patient Portal's service worker (served at /sw.js, scope "/"; registered by pwa.js).
 *
 * It keeps the app shell only: the built scripts and styles, fonts, icons, and the offline page.
 * Never a page, an API answer, a document, an event (/_event websocket) or anything else that could
 * hold patient data: the cache is on the phone, and a phone gets lost. So:
 *   - navigations go to the network; only when that fails is /offline.html shown ("You are offline");
 *   - same-origin static files (by their extension, outside the data paths) are served from the cache,
 *     hashed build files cache-first, the few unhashed ones refreshed in the background;
 *   - everything else (non-GET, other origins, /api, /_event, /_upload, /fhir, /chart, JSON ...)
 *     is not touched at all: the browser fetches it as if there were no service worker.
 * Push: shows the notification the server sent (its text never says anything clinical) and opens
 * the portal page it names when tapped.
 */
const SHELL = "portal-shell-v1";
const OFFLINE = "/offline.html";
const PRECACHE = [OFFLINE, "/offline.css", "/favicon.svg", "/icons/icon-192.png", "/manifest.webmanifest"];
const NEVER = /^\/(api|_event|_upload|_health|fhir|metrics|\.well-known|backend|ping)(\/|$)/;  // never touched
const NO_CACHE = /^\/(chart|patient|doctor|staff|admin|account)(\/|$)/;  // pages: network only
const STATIC = /\.(js|mjs|css|woff2?|ttf|otf|svg|png|ico|webp|webmanifest)$/;
const HASHED = /-[A-Za-z0-9_-]{8}\.(js|mjs|css)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL) await caches.delete(name);
    }
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
  })());
});

function shellFile(url, request) {
  return url.origin === self.location.origin && !NO_CACHE.test(url.pathname) && !url.search
    && STATIC.test(url.pathname) && request.destination !== "document";
}

function keepable(response) {
  const kind = (response.headers.get("content-type") || "").toLowerCase();
  return response.ok && response.type === "basic" && !kind.includes("json") && !kind.includes("html");
}

async function fromShell(event, request, cacheFirst) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request);
  const refresh = fetch(request).then((response) => {
    if (keepable(response)) cache.put(request, response.clone());
    return response;
  });
  if (cached) {
    if (!cacheFirst) event.waitUntil(refresh.catch(() => undefined));
    return cached;
  }
  return refresh;
}

async function navigate(event) {
  try {
    const preloaded = await event.preloadResponse;
    return preloaded || await fetch(event.request);
  } catch (offline) {
    return (await caches.match(OFFLINE)) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || NEVER.test(url.pathname)) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (shellFile(url, request)) {
    event.respondWith(fromShell(event, request, HASHED.test(url.pathname)));
  }
});

self.addEventListener("push", (event) => {
  let note = {};
  try { note = event.data ? event.data.json() : {}; } catch (notJson) { note = {}; }
  const title = note.title || "Patient Portal";
  event.waitUntil(self.registration.showNotification(title, {
    body: note.body || "You have a new notification.",
    icon: "/icons/icon-192.png",
    badge: "/icons/maskable-192.png",
    tag: note.tag || "portal",
    data: { url: note.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil((async () => {
    for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
      if ("focus" in client && new URL(client.url).origin === target.origin) {
        await client.focus();
        return client.navigate ? client.navigate(target.href) : undefined;
      }
    }
    return self.clients.openWindow(target.href);
  })());
});
