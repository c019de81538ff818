// Progressive only: the checkout works without this file. Once "Place order" is pressed, the
// button says so and ignores further presses (the hidden idempotency key already makes a
// second submit place no second order; this spares the shopper the doubt).
(function () {
  "use strict";
  var form = document.querySelector("form.checkout-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function (event) {
    var button = form.querySelector("button[type=submit]");
    if (!button) {
      return;
    }
    if (button.getAttribute("aria-disabled") === "true") {
      event.preventDefault();
      return;
    }
    button.setAttribute("aria-disabled", "true");
    button.textContent = "Placing your order…";
  });
})();
