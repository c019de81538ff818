/* POS page script: installs the service worker, keeps the sales made while offline in
   IndexedDB (under the id the till made for each sale) and sends them, once each, when the
   network is back; shows in the header whether the device is online and how many sales wait;
   warns before signing out with sales not sent yet.

   A kept sale is {id, body, created_at, status: "pending" | "refused", message}. The server
   places a sale once per id (it is the order's idempotency key), so sending one twice — two
   tabs syncing at once, an answer lost on the way back — still makes one order. */
(function () {
  "use strict";

  const DB_NAME = "pos";
  const STORE = "sales";
  const SALES_URL = "/pos/sales/";
  const SYNC_EVERY_MS = 30000;

  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function withStore(mode, work) {
    return openDatabase().then((db) => new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => { db.close(); resolve(request ? request.result : undefined); };
      transaction.onerror = () => { db.close(); reject(transaction.error); };
    }));
  }

  function listKept() {
    return withStore("readonly", (store) => store.getAll()).then((rows) =>
      rows.sort((a, b) => a.created_at.localeCompare(b.created_at)));
  }

  function keepSale(body) {
    const record = { id: body.id, body, created_at: new Date().toISOString(), status: "pending", message: "" };
    return withStore("readwrite", (store) => store.put(record)).then(changed);
  }

  function forget(id) {
    return withStore("readwrite", (store) => store.delete(id)).then(changed);
  }

  function markRefused(record, message) {
    const refused = Object.assign({}, record, { status: "refused", message });
    return withStore("readwrite", (store) => store.put(refused));
  }

  function countUnsynced() {
    return listKept().then((rows) => rows.filter((row) => row.status === "pending").length);
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* POST one sale. Resolves {status, data} (data null when the answer is not JSON, e.g. the
     sign-in page after the session ended); rejects when the network is down. */
  function sendSale(body) {
    return fetch(SALES_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then((response) => {
      const isJson = (response.headers.get("Content-Type") || "").startsWith("application/json");
      return (isJson ? response.json() : Promise.resolve(null)).then((data) => ({ status: response.status, data }));
    });
  }

  // A refusal the same sale will meet again (bad data, no stock): keep it aside for staff.
  // 401 (signed out) and 403 (the signed-in staff member works at another store) are not:
  // the sale waits for someone of its store to sign in on this device.
  function isFinalRefusal(answer) {
    return answer.data !== null && answer.status >= 400 && answer.status < 500 &&
      answer.status !== 401 && answer.status !== 403;
  }

  let syncing = null;

  function syncNow() {
    if (syncing) return syncing;
    if (!navigator.onLine) return Promise.resolve(0);
    syncing = (async () => {
      let sent = 0;
      const waiting = (await listKept()).filter((row) => row.status === "pending");
      for (const record of waiting) {
        let answer;
        try {
          answer = await sendSale(record.body);
        } catch (networkDown) {
          break;
        }
        if (answer.status === 200 || answer.status === 201) {
          await withStore("readwrite", (store) => store.delete(record.id));
          sent += 1;
        } else if (isFinalRefusal(answer)) {
          await markRefused(record, answer.data.message || "The sale was refused.");
        } else if (answer.status === 403) {
          continue; // another store's sale: the next one may be ours
        } else {
          break; // signed out or a server error: try again later
        }
      }
      return sent;
    })().finally(() => {
      syncing = null;
      changed();
    });
    return syncing;
  }

  function changed() {
    return showStatus().then(() => {
      document.dispatchEvent(new CustomEvent("pos:kept-sales-changed"));
    });
  }

  function showStatus() {
    const badge = document.querySelector("[data-sync-status]");
    return listKept().then((rows) => {
      const pending = rows.filter((row) => row.status === "pending").length;
      const refused = rows.length - pending;
      if (!badge) return pending;
      const parts = [];
      if (!navigator.onLine) parts.push("Offline");
      if (pending > 0) parts.push(pending === 1 ? "1 sale not sent yet" : pending + " sales not sent yet");
      if (refused > 0) parts.push(refused === 1 ? "1 sale refused" : refused + " sales refused");
      badge.textContent = parts.join(" · ");
      badge.hidden = parts.length === 0;
      badge.dataset.unsynced = String(pending);
      return pending;
    });
  }

  function warnBeforeSignOut() {
    document.querySelectorAll("form[action$='/accounts/logout/']").forEach((form) => {
      form.addEventListener("submit", (event) => {
        const count = Number(document.querySelector("[data-sync-status]")?.dataset.unsynced || 0);
        if (count > 0 && !window.confirm(
          (count === 1 ? "1 sale made offline is" : count + " sales made offline are") +
          " not sent yet. They stay on this device and are sent when someone signs in here " +
          "again with the network on. Sign out anyway?")) {
          event.preventDefault();
        }
      });
    });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/pos/sw.js", { scope: "/pos/" });
  }
  window.addEventListener("online", () => { showStatus(); syncNow(); });
  window.addEventListener("offline", showStatus);
  document.addEventListener("DOMContentLoaded", () => {
    showStatus();
    warnBeforeSignOut();
    syncNow();
    window.setInterval(syncNow, SYNC_EVERY_MS);
  });
  window.posSync = { openDatabase, countUnsynced, showStatus, listKept, keepSale, forget, sendSale, syncNow };
})();
