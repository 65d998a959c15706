/* Live progress of a bake-off: polls the run's progress JSON every second, moves the bar and the
   counts, and reloads the page (which then shows the report) when the run has stopped. Without
   JavaScript the page refreshes itself instead (a meta refresh inside <noscript>). */
(function () {
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.url;
  var bar = box.querySelector("[role=progressbar]");
  var fill = box.querySelector(".progress-fill");
  function set(name, value) {
    var els = document.querySelectorAll("[data-count=" + name + "]");
    for (var i = 0; i < els.length; i++) els[i].textContent = value;
  }
  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (p) {
        fill.style.width = p.percent + "%";
        bar.setAttribute("aria-valuenow", p.percent);
        bar.setAttribute("aria-valuetext", p.percent + "% (" + p.done + " done, " + p.failed + " failed, " + p.remaining + " remaining)");
        set("percent", p.percent + "%");
        set("done", p.done);
        set("failed", p.failed);
        set("remaining", p.remaining);
        set("status", p.status_label);
        if (p.finished) { window.location.reload(); } else { setTimeout(tick, 1000); }
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
