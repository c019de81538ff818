/* POS service worker: keeps the POS usable when the store's network drops.
   Pages: network first, the last good copy when offline, else the offline page.
   Static files: cache first (their names change when they change in production). */
const VERSION = "pos-v2";
const SHELL = ["/pos/", "/pos/sale/", "/pos/offline/", "/static/css/app.css", "/static/pos/pos.css",
               "/static/pos/pos.js", "/static/pos/sale.js", "/static/pos/icon.svg"];
const ITEM_LOOKUP = "/pos/sale/items/";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== VERSION).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;  // sales are queued by pos.js, never by the worker
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetchAndKeep(request)));
    return;
  }
  if (url.pathname === ITEM_LOOKUP) {
    // network first; a product looked up before is still sellable offline
    event.respondWith(
      fetchAndKeep(request).catch(() => caches.match(request).then((hit) => hit || notKeptHere()))
    );
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith("/pos/")) {
    event.respondWith(
      fetchAndKeep(request).catch(() =>
        caches.match(request).then((hit) => hit || caches.match("/pos/offline/"))
      )
    );
  }
});

function fetchAndKeep(request) {
  return fetch(request).then((response) => {
    if (response.ok && response.type === "basic") {
      const copy = response.clone();
      caches.open(VERSION).then((cache) => cache.put(request, copy));
    }
    return response;
  });
}

function notKeptHere() {
  const body = {
    error: "offline",
    message: "No connection, and this product was not looked up on this device before: " +
      "its price is not known here. Sell it when the network is back.",
    fields: {},
  };
  return new Response(JSON.stringify(body), {
    status: 503, headers: { "Content-Type": "application/json" },
  });
}
