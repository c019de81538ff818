// Live count for the segment builder: on each change, ask the count endpoint (the same rules
// as the "Count" button, which works without this script).
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  var output = document.getElementById("segment-count");
  if (!form || !output || !window.fetch) return;
  var timer = null;
  var latest = 0;
  function rulesQuery() {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    data.delete("name");
    data.delete("description");
    return new URLSearchParams(data).toString();
  }
  function show(text, isError) {
    output.textContent = "";
    var node = document.createElement(isError ? "span" : "strong");
    node.textContent = text;
    if (isError) node.className = "error";
    output.appendChild(node);
  }
  function count() {
    var ticket = ++latest;
    fetch(form.dataset.countUrl + "?" + rulesQuery(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (result) {
        if (ticket !== latest) return;
        if (result.ok) {
          var n = result.body.count;
          show(n.toLocaleString() + (n === 1 ? " customer matches" : " customers match"), false);
        } else {
          var reasons = [];
          var fields = result.body.fields || {};
          Object.keys(fields).forEach(function (key) { reasons = reasons.concat(fields[key]); });
          show(reasons.length ? reasons.join(" ") : result.body.message, true);
        }
      })
      .catch(function () { if (ticket === latest) show("Could not count just now; press Count to try again.", true); });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(count, 300); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(count, 150); });
})();
