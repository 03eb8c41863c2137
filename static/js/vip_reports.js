// The VIP report's chart: VIP counts by tier per branch (data from a JSON block).
(function () {
  "use strict";
  var canvas = document.getElementById("vip-branch-chart");
  var source = document.getElementById("vip-branch-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#8b1e2d", "#c2410c", "#9ca3af", "#f5a623", "#65a30d", "#0e7490", "#6d28d9"];
  var zh = (document.documentElement.lang || "zh-hans").indexOf("zh") === 0;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: colours[i % colours.length] };
      })
    },
    options: {
      animation: false,
      plugins: { legend: { position: "bottom" } },
      scales: {
        x: { stacked: true },
        y: { stacked: true, ticks: { callback: function (v) { return v.toLocaleString(zh ? "zh-CN" : "en-US"); } } }
      }
    }
  });
})();
