// The channel results' charts (data from a JSON block): sales amount and contacts
// per channel, and the VIP adoption of the chosen channel per branch.
(function () {
  "use strict";
  var source = document.getElementById("channel-report-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var zh = (document.documentElement.lang || "zh-hans").indexOf("zh") === 0;
  var number = function (v) { return Number(v).toLocaleString(zh ? "zh-CN" : "en-US"); };

  var results = document.getElementById("channel-results-chart");
  if (results && data.channels) {
    new Chart(results, {
      type: "bar",
      data: {
        labels: data.channels.labels,
        datasets: [
          { label: data.channels.amount_label, data: data.channels.amount, backgroundColor: "#8b1e2d", yAxisID: "amount" },
          { label: data.channels.contacts_label, data: data.channels.contacts, backgroundColor: "#0e7490", yAxisID: "contacts" }
        ]
      },
      options: {
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          amount: { position: "left", beginAtZero: true, ticks: { callback: number } },
          contacts: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0, callback: number } }
        }
      }
    });
  }

  var adoption = document.getElementById("channel-adoption-chart");
  if (adoption && data.adoption) {
    new Chart(adoption, {
      type: "bar",
      data: {
        labels: data.adoption.labels,
        datasets: [{ label: data.adoption.label, data: data.adoption.share, backgroundColor: "#f5a623" }]
      },
      options: {
        animation: false,
        indexAxis: "y",
        plugins: { legend: { position: "bottom" } },
        scales: { x: { beginAtZero: true, max: 100 } }
      }
    });
  }
})();
