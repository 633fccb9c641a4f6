/* The threshold simulator: as a slider moves, ask /api/v1/moderation/simulate and redraw the
   numbers and the "simulated" bars; the apply form follows the sliders. No inline script. */
(function () {
  "use strict";
  var form = document.querySelector(".vigie-sim-form");
  if (!form) { return; }
  var chart = document.querySelector(".vigie-sim-chart");
  var timer = null;
  var lang = document.documentElement.lang || "fr";

  function decimal(value, places) {
    return Number(value).toLocaleString(lang, { minimumFractionDigits: places, maximumFractionDigits: places });
  }
  function percent(value) {
    return value === null ? "–" : decimal(value * 100, 1) + "\u00a0%";
  }
  function setField(name, text) {
    var node = document.querySelector('[data-field="' + name + '"]');
    if (node) { node.textContent = text; }
  }
  function redraw(data) {
    setField("comments", data.comments);
    setField("held", data.held);
    setField("rejected", data.rejected);
    setField("published", data.published);
    setField("held_per_day", decimal(data.held_per_day, 1));
    setField("estimated_precision", percent(data.estimated_precision));
    setField("estimated_recall", percent(data.estimated_recall));
    if (!chart) { return; }
    var max = Number(chart.dataset.max), width = Number(chart.dataset.width), left = Number(chart.dataset.left);
    ["published", "held", "rejected"].forEach(function (key) {
      var n = data[key], w = width * Math.min(n, max) / max;
      var bar = chart.querySelector('.vigie-sim-bar.vigie-sim-simulated[data-key="' + key + '"]');
      var label = chart.querySelector('.vigie-sim-value.vigie-sim-simulated[data-key="' + key + '"]');
      if (bar) { bar.setAttribute("width", w.toFixed(1)); }
      if (label) { label.textContent = n; label.setAttribute("x", (left + w + 6).toFixed(1)); }
    });
    document.body.dataset.simulated = String(Date.now()); /* tests wait for it */
  }
  function simulate() {
    var params = new URLSearchParams(new FormData(form));
    fetch(form.dataset.apiUrl + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { redraw(data); } });
  }
  form.querySelectorAll('input[type="range"]').forEach(function (slider) {
    slider.addEventListener("input", function () {
      var shown = form.querySelector('output[data-for="' + slider.name + '"]');
      if (shown) { shown.textContent = decimal(slider.value, 2); }
      var applied = document.querySelector('.vigie-apply-value[data-for="' + slider.name + '"]');
      if (applied) { applied.value = Number(slider.value).toFixed(2); }
      clearTimeout(timer);
      timer = setTimeout(simulate, 200);
    });
  });
  form.dataset.live = "on";
}());
