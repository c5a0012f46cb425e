// The live campaign dashboard's charts (ECharts): draws over time and each prize's burn-down.
// The numbers above them are an htmx fragment; this script polls the chart data on its own.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("dashboard-config").textContent);
  var text = config.text;
  var drawsEl = document.getElementById("chart-draws");
  var burnEl = document.getElementById("chart-burn");
  var COLORS = ["#1a5fd6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4",
    "#ec4899", "#84cc16", "#f97316", "#6366f1", "#14b8a6", "#a3a3a3"];
  // Tooltips drawn on the canvas: the HTML ones carry inline styles, which the page's
  // Content-Security-Policy refuses.
  var tooltip = { trigger: "axis", renderMode: "richText" };
  var grid = { left: 44, right: 16, top: 36, bottom: 28 };
  var animation = { animationDuration: 300, animationDurationUpdate: 300 };
  var drawsChart = window.echarts.init(drawsEl, null, { renderer: "canvas" });
  var burnChart = window.echarts.init(burnEl, null, { renderer: "canvas" });

  function emptyTitle(show, label) {
    return { show: show, text: label, left: "center", top: "middle",
      textStyle: { color: "#8a909c", fontSize: 14, fontWeight: "normal" } };
  }

  function render(data) {
    var anyDraws = data.draws.some(function (n) { return n > 0; });
    drawsChart.setOption(Object.assign({
      color: ["#1a5fd6", "#f59e0b"], tooltip: tooltip, grid: grid,
      legend: { top: 0, data: [text.draws, text.wins] },
      title: emptyTitle(!anyDraws, text.empty),
      xAxis: { type: "category", data: data.labels, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: text.draws, type: "bar", data: data.draws, barMaxWidth: 18 },
        { name: text.wins, type: "line", data: data.wins, symbol: "none" }
      ]
    }, animation), { notMerge: true });
    burnChart.setOption(Object.assign({
      color: COLORS, tooltip: tooltip, grid: grid,
      legend: { top: 0, type: "scroll" },
      title: emptyTitle(data.prizes.length === 0, text.noStock),
      xAxis: { type: "category", data: data.labels, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1, min: 0 },
      series: data.prizes.map(function (p) {
        return { name: p.name, type: "line", data: p.burnDown, step: "end", symbol: "none" };
      })
    }, animation), { notMerge: true });
    // For people and tests: what the charts show now.
    drawsEl.dataset.drawsTotal = String(data.totals.draws);
    drawsEl.dataset.bucketDraws = String(data.draws.reduce(function (a, b) { return a + b; }, 0));
  }

  function refresh() {
    if (document.hidden) return;
    fetch(config.seriesUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  // The store selector applies as soon as a store is chosen; its button is for browsers
  // without this script.
  var storeSelect = document.querySelector("[data-store-filter] [data-autosubmit]");
  if (storeSelect) {
    storeSelect.form.querySelector("[data-store-apply]").hidden = true;
    storeSelect.addEventListener("change", function () { storeSelect.form.submit(); });
  }

  render(config.initial);
  setInterval(refresh, config.refreshSeconds * 1000);
  document.addEventListener("visibilitychange", refresh);
  window.addEventListener("resize", function () { drawsChart.resize(); burnChart.resize(); });
})();
