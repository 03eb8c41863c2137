// The customer analysis report's charts (data from a JSON block): customers by
// loyalty band, stacked by tier; and per tier the average churn probability beside
// the value at risk.
(function () {
  "use strict";
  var source = document.getElementById("analysis-report-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#8b1e2d", "#c2410c", "#9ca3af", "#f5a623", "#65a30d", "#0e7490", "#6d28d9"];
  var zh = (document.documentElement.lang || "zh-hans").indexOf("zh") === 0;
  var number = function (v) { return Number(v).toLocaleString(zh ? "zh-CN" : "en-US"); };

  var loyalty = document.getElementById("analysis-loyalty-chart");
  if (loyalty && data.loyalty) {
    new Chart(loyalty, {
      type: "bar",
      data: {
        labels: data.loyalty.labels,
        datasets: data.loyalty.series.map(function (s, i) {
          return { label: s.label, data: s.data, backgroundColor: colours[i % colours.length] };
        })
      },
      options: {
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { stacked: true },
          y: {
            stacked: true,
            beginAtZero: true,
            title: { display: true, text: data.loyalty.axis },
            ticks: { precision: 0, callback: number }
          }
        }
      }
    });
  }

  var churn = document.getElementById("analysis-churn-chart");
  if (churn && data.churn) {
    new Chart(churn, {
      type: "bar",
      data: {
        labels: data.churn.labels,
        datasets: [
          { label: data.churn.average_label, data: data.churn.average, backgroundColor: "#8b1e2d", yAxisID: "probability" },
          { label: data.churn.value_at_risk_label, data: data.churn.value_at_risk, backgroundColor: "#f5a623", yAxisID: "amount" }
        ]
      },
      options: {
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          probability: { position: "left", beginAtZero: true, max: 100 },
          amount: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: number } }
        }
      }
    });
  }
})();
