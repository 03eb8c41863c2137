// Marketing dashboards: the campaign funnel and task progress (data from a JSON block).
(function () {
  "use strict";
  var canvas = document.getElementById("marketing-chart");
  var source = document.getElementById("marketing-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#8b1e2d", "#b5475a", "#f5a623", "#2e7d32"];
  if (data.kind === "funnel") {
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: colours }] },
      options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } } }
    });
  } else if (data.kind === "progress") {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.completion_label, data: data.completion, backgroundColor: "#8b1e2d" },
          { label: data.elapsed_label, data: data.labels.map(function () { return data.elapsed; }), type: "line", borderColor: "#f5a623", pointRadius: 0 }
        ]
      },
      options: { animation: false, indexAxis: "x", plugins: { legend: { position: "bottom" } }, scales: { y: { beginAtZero: true } } }
    });
  }
})();
