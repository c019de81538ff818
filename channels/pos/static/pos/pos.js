/* POS page script: installs the service worker, shows whether the device is online and how
   many sales wait to be sent, and warns before signing out with unsent sales. */
(function () {
  "use strict";

  const DB_NAME = "pos";
  const STORE = "sales";

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

  function countUnsynced() {
    return openDatabase().then((db) => new Promise((resolve, reject) => {
      const request = db.transaction(STORE, "readonly").objectStore(STORE).count();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));
  }

  function showStatus() {
    const badge = document.querySelector("[data-sync-status]");
    if (!badge) return Promise.resolve(0);
    return countUnsynced().then((count) => {
      const parts = [];
      if (!navigator.onLine) parts.push("Offline");
      if (count > 0) parts.push(count === 1 ? "1 sale not sent yet" : count + " sales not sent yet");
      badge.textContent = parts.join(" · ");
      badge.hidden = parts.length === 0;
      badge.dataset.unsynced = String(count);
      return count;
    });
  }

  function warnBeforeSignOut() {
    document.querySelectorAll("form[action$='/accounts/logout/']").forEach((form) => {
      form.addEventListener("submit", (event) => {
        const count = Number(document.querySelector("[data-sync-status]")?.dataset.unsynced || 0);
        if (count > 0 && !window.confirm(
          count + " sale(s) made offline are not sent yet. They stay on this device and are " +
          "sent when you sign in again here. Sign out anyway?")) {
          event.preventDefault();
        }
      });
    });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/pos/sw.js", { scope: "/pos/" });
  }
  window.addEventListener("online", showStatus);
  window.addEventListener("offline", showStatus);
  document.addEventListener("DOMContentLoaded", () => {
    showStatus();
    warnBeforeSignOut();
  });
  window.posSync = { openDatabase, countUnsynced, showStatus };
})();
