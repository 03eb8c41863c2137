// The 13-month AUM chart of the customer 360 view (data from a JSON block).
(function () {
  "use strict";
  var canvas = document.getElementById("aum-chart");
  var source = document.getElementById("aum-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || "zh-hans";
  var zh = lang.indexOf("zh") === 0;
  // amounts as everywhere in the portal: thousands separators and two decimals
  var format = new Intl.NumberFormat(zh ? "zh-CN" : "en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function money(v) { return format.format(Number(v)); }
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: zh ? "月日均" : "Month average", data: data.avg, borderColor: "#8b1e2d", backgroundColor: "rgba(139,30,45,.12)", fill: true, tension: 0.25 },
        { label: zh ? "月末" : "Month end", data: data.end, borderColor: "#f5a623", borderDash: [4, 3], fill: false, tension: 0.25 }
      ]
    },
    options: {
      animation: false,
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + money(c.parsed.y); } } }
      },
      scales: { y: { ticks: { callback: money } } }
    }
  });
})();

// The reveal dialog: once the values are revealed (their places on the page swapped
// by the answer), the dialog closes and forgets the reason and the choices.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    // (a refusal, 400, is shown in the dialog: portal.js swaps it in as if successful)
    if (!form || form.id !== "reveal-form" || event.detail.xhr.status !== 200) { return; }
    form.reset();
    var dialog = document.getElementById("reveal-dialog");
    if (dialog && window.bootstrap) {
      window.setTimeout(function () { window.bootstrap.Modal.getOrCreateInstance(dialog).hide(); }, 1200);
    }
  });
  document.addEventListener("show.bs.modal", function (event) {
    var feedback = document.getElementById("reveal-feedback");
    if (event.target.id === "reveal-dialog" && feedback) { feedback.textContent = ""; }
  });
})();
