// The credit-risk report's charts (data from a JSON block): the overdue rate and the
// NPL ratio by month; per product line, the vintage curves (ever 30+ days past due
// by months on book, one line per month of opening).
(function () {
  "use strict";
  var source = document.getElementById("credit-report-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#8b1e2d", "#c2410c", "#f5a623", "#65a30d", "#0e7490", "#6d28d9", "#9ca3af", "#be185d"];
  var percent = function (v) { return v + "%"; };

  var trend = document.getElementById("credit-trend-chart");
  if (trend && data.trend) {
    new Chart(trend, {
      type: "line",
      data: {
        labels: data.trend.labels,
        datasets: [
          { label: data.trend.overdue_label, data: data.trend.overdue_rate, borderColor: "#f5a623", backgroundColor: "#f5a623", spanGaps: true },
          { label: data.trend.npl_label, data: data.trend.npl_ratio, borderColor: "#8b1e2d", backgroundColor: "#8b1e2d", spanGaps: true }
        ]
      },
      options: {
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true, ticks: { callback: percent } } }
      }
    });
  }

  (data.vintages || []).forEach(function (table) {
    var canvas = document.getElementById(table.id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "line",
      data: {
        labels: table.labels,
        datasets: table.series.map(function (s, i) {
          var colour = colours[i % colours.length];
          return { label: s.label, data: s.data, borderColor: colour, backgroundColor: colour, pointRadius: 1, borderWidth: 1.5 };
        })
      },
      options: {
        animation: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
        scales: {
          x: { title: { display: true, text: table.axis_x } },
          y: { beginAtZero: true, title: { display: true, text: table.axis_y }, ticks: { callback: percent } }
        }
      }
    });
  });
})();
