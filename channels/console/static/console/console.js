/* Console: older timeline events load as the agent scrolls to the end of the list.
   Without script the "Load older" link opens the page at that point instead. */
(function () {
  "use strict";

  function loadMore(item) {
    const link = item.querySelector("a[data-fragment]");
    if (!link || item.dataset.loading) return;
    item.dataset.loading = "1";
    link.textContent = "Loading…";
    fetch(link.dataset.fragment, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then((html) => {
        const list = item.parentElement;
        item.remove();
        list.insertAdjacentHTML("beforeend", html);
        watch(list);
      })
      .catch(() => {
        delete item.dataset.loading;
        link.textContent = "Could not load older touchpoints — try again";
      });
  }

  function watch(list) {
    const item = list.querySelector("[data-timeline-more]");
    if (!item || !("IntersectionObserver" in window)) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        loadMore(item);
      }
    });
    observer.observe(item);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-timeline]").forEach(watch);
  });
})();
