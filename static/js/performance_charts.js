// The figures pages' charts (data from a JSON block): a manager's total contribution
// over the last periods, and the top 10 of a team board.
(function () {
  "use strict";
  var canvas = document.getElementById("performance-chart");
  var source = document.getElementById("performance-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var zh = (document.documentElement.lang || "zh-hans").indexOf("zh") === 0;
  // amounts as everywhere in the portal: thousands separators and two decimals
  var format = new Intl.NumberFormat(zh ? "zh-CN" : "en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var amount = function (v) { return format.format(Number(v)); };
  var tooltip = { callbacks: { label: function (c) { return amount(c.parsed[c.chart.options.indexAxis === "y" ? "x" : "y"]); } } };
  if (data.kind === "trend") {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.values, borderColor: "#8b1e2d", backgroundColor: "#8b1e2d", spanGaps: false, tension: 0.2 }]
      },
      options: { animation: false, plugins: { legend: { display: false }, tooltip: tooltip }, scales: { y: { ticks: { callback: amount } } } }
    });
  } else if (data.kind === "top") {
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: "#8b1e2d" }] },
      options: { animation: false, indexAxis: "y", plugins: { legend: { display: false }, tooltip: tooltip }, scales: { x: { ticks: { callback: amount } } } }
    });
  }
})();
