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
