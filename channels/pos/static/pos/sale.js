/* The sale screen. The ticket (lines, attached customer, pulled online basket) is kept in this
   device's localStorage per staff member and store, so a reload or a network drop loses
   nothing. Its id is a UUID made here: the order's idempotency key. Paying sends the sale to
   /pos/sales/; when the network is down the sale is kept by pos.js and sent later. */
(function () {
  "use strict";

  const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:\-]{3,63}$/;
  const CASH_PATTERN = /^\d{1,6}([.,]\d{1,2})?$/;
  const MAX_QUANTITY = 99;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // Amounts are kept in cents so that sums are exact.
  function cents(text) { return Math.round(Number(text) * 100); }

  document.addEventListener("DOMContentLoaded", () => {
    const page = JSON.parse(document.getElementById("sale-data").textContent);
    const storageKey = `pos-ticket:${page.user}:${page.store.code}`;
    const money = new Intl.NumberFormat("en-IE", { style: "currency", currency: page.currency });
    const show = (amountCents) => money.format(amountCents / 100);
    const $ = (selector) => document.querySelector(selector);

    let ticket = load();

    function fresh() { return { id: newId(), lines: [], customer: null, cart: null }; }

    function load() {
      try {
        const kept = JSON.parse(localStorage.getItem(storageKey));
        if (kept && kept.id && Array.isArray(kept.lines)) return kept;
      } catch (unreadable) { /* start a new ticket */ }
      return fresh();
    }

    function save() { localStorage.setItem(storageKey, JSON.stringify(ticket)); }

    function totalCents() {
      return ticket.lines.reduce((sum, line) => sum + cents(line.unit_price) * line.quantity, 0);
    }

    function say(selector, text) {
      const box = $(selector);
      box.textContent = text;
      box.hidden = !text;
    }

    function button(label, text, onClick, extraClass) {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = text;
      element.setAttribute("aria-label", label);
      if (extraClass) element.className = extraClass;
      element.addEventListener("click", onClick);
      return element;
    }

    function render() {
      const list = $("[data-ticket-lines]");
      list.replaceChildren();
      for (const line of ticket.lines) {
        const item = document.createElement("li");
        item.className = "ticket-line";
        item.dataset.sku = line.sku;
        const what = document.createElement("div");
        const name = document.createElement("div");
        name.className = "name";
        name.textContent = line.name;
        const meta = document.createElement("div");
        meta.className = "meta";
        meta.textContent = `${line.sku} · ${show(cents(line.unit_price))} each`;
        what.append(name, meta);
        const amount = document.createElement("div");
        amount.className = "amount";
        amount.textContent = show(cents(line.unit_price) * line.quantity);
        const stepper = document.createElement("div");
        stepper.className = "stepper";
        const count = document.createElement("span");
        count.className = "count";
        count.textContent = String(line.quantity);
        count.setAttribute("aria-label", `Quantity of ${line.name}`);
        stepper.append(
          button(`One less ${line.name}`, "−", () => change(line.sku, -1)),
          count,
          button(`One more ${line.name}`, "+", () => change(line.sku, +1)),
          button(`Remove ${line.name}`, "Remove", () => remove(line.sku), "remove"),
        );
        item.append(what, amount, stepper);
        if (line.available_here !== undefined && line.quantity > line.available_here) {
          const warning = document.createElement("div");
          warning.className = "warning";
          warning.textContent = line.available_here > 0
            ? `Only ${line.available_here} in stock here.` : "None in stock here.";
          item.append(warning);
        }
        list.append(item);
      }
      const hasLines = ticket.lines.length > 0;
      $("[data-ticket-empty]").hidden = hasLines;
      $("[data-ticket-total-row]").hidden = !hasLines;
      $("[data-ticket-total]").textContent = show(totalCents());
      $("[data-pay]").hidden = !hasLines;
      $("[data-clear-sale]").hidden = !hasLines && !ticket.customer;
      const customerLine = $("[data-ticket-customer]");
      customerLine.replaceChildren();
      if (ticket.customer) {
        customerLine.append(`For ${ticket.customer.name}${ticket.cart ? " (with their online basket)" : ""} `);
        customerLine.append(button(`Take ${ticket.customer.name} off this sale`, "Take off", detachCustomer, "link-inline"));
      }
      customerLine.hidden = !ticket.customer;
      const attach = $("[data-attach-customer]");
      if (attach) attach.hidden = Boolean(ticket.customer && page.customer && ticket.customer.id === page.customer.id);
      const addBasket = $("[data-add-basket]");
      if (addBasket) {
        const isAdded = Boolean(page.basket && ticket.cart === page.basket.cart);
        addBasket.disabled = isAdded;
        addBasket.textContent = isAdded ? "Basket added to the sale" : "Add basket to sale";
      }
    }

    function change(sku, step) {
      const line = ticket.lines.find((candidate) => candidate.sku === sku);
      if (!line) return;
      line.quantity = Math.min(MAX_QUANTITY, line.quantity + step);
      if (line.quantity < 1) { remove(sku); return; }
      save(); render();
    }

    function remove(sku) {
      ticket.lines = ticket.lines.filter((line) => line.sku !== sku);
      save(); render();
    }

    function addLine(item, quantity) {
      $("[data-saved]").hidden = true;
      const line = ticket.lines.find((candidate) => candidate.sku === item.sku);
      if (line) {
        line.quantity = Math.min(MAX_QUANTITY, line.quantity + quantity);
        if (item.available_here !== undefined) line.available_here = item.available_here;
      } else {
        ticket.lines.push({
          sku: item.sku, name: item.name, unit_price: item.unit_price, quantity,
          available_here: item.available_here,
        });
      }
    }

    function attachCustomer() {
      if (!page.customer) return;
      if (ticket.customer && ticket.customer.id !== page.customer.id) ticket.cart = null;
      ticket.customer = page.customer;
      save(); render();
    }

    function detachCustomer() {
      ticket.customer = null;
      ticket.cart = null; // an online basket goes with its customer
      save(); render();
    }

    function addBasket() {
      if (!page.basket) return;
      attachCustomer();
      ticket.cart = page.basket.cart;
      // the same product on the ticket and in the basket is one intention: keep the larger
      for (const line of page.basket.lines) {
        const held = ticket.lines.find((candidate) => candidate.sku === line.sku);
        if (held) held.quantity = Math.max(held.quantity, line.quantity);
        else ticket.lines.push(Object.assign({}, line));
      }
      save(); render();
    }

    async function lookUp(event) {
      event.preventDefault();
      const input = $("#sale-code");
      const code = input.value.trim();
      say("[data-add-error]", "");
      if (!code) { say("[data-add-error]", "Scan a barcode or type a SKU first."); return; }
      let response;
      try {
        response = await fetch(`/pos/sale/items/?code=${encodeURIComponent(code)}`, {
          headers: { "Accept": "application/json" }, credentials: "same-origin",
        });
      } catch (networkDown) {
        say("[data-add-error]", "No connection, and this product was not looked up on this device before.");
        return;
      }
      const isJson = (response.headers.get("Content-Type") || "").startsWith("application/json");
      const data = isJson ? await response.json() : null;
      if (!response.ok || !data) {
        say("[data-add-error]", data ? data.message : "Your session has ended: sign in again. The sale stays here.");
        if (input.value.trim() === code) input.select();
        return;
      }
      addLine(data, 1);
      save(); render();
      // a scanner may already have typed the next code while this one was looked up
      if (input.value.trim() === code) input.value = "";
      input.focus();
    }

    function saleBody(payment) {
      const body = {
        id: ticket.id,
        store: page.store.code,
        lines: ticket.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
        customer: ticket.customer ? ticket.customer.id : null,
        cart: ticket.cart,
        payment,
      };
      // made while offline: the sale keeps the time it was made at
      if (!navigator.onLine) body.placed_at = new Date().toISOString();
      return body;
    }

    async function pay(payment, tenderedCents) {
      say("[data-pay-error]", "");
      const body = saleBody(payment);
      const total = totalCents();
      if (!navigator.onLine) { await keep(body, total, tenderedCents); return; }
      let answer;
      try {
        answer = await window.posSync.sendSale(body);
      } catch (networkDown) {
        await keep(body, total, tenderedCents);
        return;
      }
      if (answer.status >= 500) {
        // the server failed: whether the sale was placed is unknown, and replaying it is safe
        await keep(body, total, tenderedCents);
        return;
      }
      if (answer.status === 200 || answer.status === 201) {
        localStorage.removeItem(storageKey);
        const tendered = tenderedCents === null ? "" : `?tendered=${(tenderedCents / 100).toFixed(2)}`;
        window.location.assign(answer.data.receipt_url + tendered);
        return;
      }
      say("[data-pay-error]", answer.data
        ? answer.data.message
        : "Your session has ended: sign in again. The sale stays on this screen.");
    }

    async function keep(body, total, tenderedCents) {
      lastKeptId = body.id;
      $("[data-saved-title]").textContent = "Sale kept on this device";
      $("[data-saved-help]").hidden = false;
      $("[data-saved]").classList.add("saved");
      await window.posSync.keepSale(body);
      const change = tenderedCents === null ? "" : ` Give ${show(tenderedCents - total)} change.`;
      say("[data-saved-text]", `Sale of ${show(total)} kept on this device.${change}`);
      ticket = fresh();
      save(); render();
      const saved = $("[data-saved]");
      saved.hidden = false;
      saved.focus();
    }

    function takeCash(event) {
      event.preventDefault();
      const typed = $("#cash-given").value.trim();
      if (!CASH_PATTERN.test(typed)) {
        say("[data-pay-error]", "Type the cash handed over as an amount, like 50 or 20.50.");
        return;
      }
      const tendered = cents(typed.replace(",", "."));
      if (tendered < totalCents()) {
        say("[data-pay-error]", `${show(tendered)} does not cover the total of ${show(totalCents())}.`);
        return;
      }
      pay({ method: "cash", amount_tendered: (tendered / 100).toFixed(2) }, tendered);
    }

    function takeCard(event) {
      event.preventDefault();
      const reference = $("#terminal-ref").value.trim();
      if (!CODE_PATTERN.test(reference)) {
        say("[data-pay-error]", "Type the approval code from the terminal's slip (4 to 64 letters and digits).");
        return;
      }
      pay({ method: "card_present", terminal_reference: reference }, null);
    }

    function clearSale() {
      if (ticket.lines.length && !window.confirm("Clear this sale? Its lines are removed.")) return;
      ticket = fresh();
      save(); render();
    }

    function nextSale() {
      $("[data-saved]").hidden = true;
      $("#cash-given").value = "";
      $("#terminal-ref").value = "";
      $("#sale-code").focus();
    }

    let lastKeptId = null;

    function renderKept() {
      window.posSync.listKept().then((rows) => {
        const saved = $("[data-saved]");
        if (lastKeptId && !saved.hidden && !rows.some((row) => row.id === lastKeptId)) {
          $("[data-saved-title]").textContent = "Sale sent";
          say("[data-saved-text]", "The network is back and the sale kept on this device is now an order.");
          $("[data-saved-help]").hidden = true;
          saved.classList.remove("saved");
          lastKeptId = null;
        }
        const box = $("[data-queue]");
        const list = $("[data-queue-list]");
        list.replaceChildren();
        for (const row of rows) {
          const item = document.createElement("li");
          item.className = `queue-item ${row.status}`;
          const units = row.body.lines.reduce((sum, line) => sum + line.quantity, 0);
          const when = new Date(row.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
          item.append(`${when} · ${units} item${units === 1 ? "" : "s"} · ${row.body.payment.method === "cash" ? "cash" : "card"} · `);
          if (row.status === "refused") {
            item.append(`refused: ${row.message} `);
            item.append(button("Remove this refused sale from the device", "Remove", () => {
              if (window.confirm("Remove this refused sale from the device? Settle it in the back office.")) {
                window.posSync.forget(row.id);
              }
            }, "link-inline"));
          } else {
            item.append("waiting for the network");
          }
          list.append(item);
        }
        box.hidden = rows.length === 0;
      });
    }

    $("[data-add-form]").addEventListener("submit", lookUp);
    $("[data-cash-form]").addEventListener("submit", takeCash);
    $("[data-card-form]").addEventListener("submit", takeCard);
    $("[data-clear-sale]").addEventListener("click", clearSale);
    $("[data-new-sale]").addEventListener("click", nextSale);
    $("[data-attach-customer]")?.addEventListener("click", attachCustomer);
    $("[data-add-basket]")?.addEventListener("click", addBasket);
    document.addEventListener("pos:kept-sales-changed", renderKept);
    render();
    renderKept();
    document.documentElement.dataset.saleReady = "true"; // the till can take scans now
  });
})();
