// trophy-emulator inspector: keeps the #live part of the page current (server-sent events),
// and copies the admin key on demand. Our own code; no library.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var live = document.getElementById("live");
  var busy = false, again = false;

  function refresh() {
    if (!live) return;
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("live");
        if (fresh) {
          // Keep open payloads open across the update.
          var open = {};
          live.querySelectorAll("details[open]").forEach(function (d) {
            var row = d.closest("tr");
            if (row && row.id) open[row.id] = true;
          });
          live.innerHTML = fresh.innerHTML;
          Object.keys(open).forEach(function (id) {
            var d = document.querySelector("#" + CSS.escape(id) + " details");
            if (d) d.open = true;
          });
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (window.EventSource && live) {
    var source = new EventSource("/_emulator/ui/events");
    source.addEventListener("open", function () { status.textContent = "live"; });
    source.addEventListener("error", function () { status.textContent = "reconnecting"; });
    source.addEventListener("change", refresh);
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-copy]");
    if (!button) return;
    fetch(button.getAttribute("data-copy"), { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (key) { return navigator.clipboard.writeText(key); })
      .then(function () { button.textContent = "Copied"; },
            function () { button.textContent = "Copy failed"; });
  });
})();
