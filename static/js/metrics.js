// Draws the metrics panel's charts with plotly.js from the JSON the server puts in the
// data-charts attribute of #metrics-data. Runs on load and after each htmx refresh.
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#0891b2"];

  function draw(root) {
    var data = root.querySelector ? root.querySelector("#metrics-data") : null;
    if (!data || typeof Plotly === "undefined") { return; }
    var charts = JSON.parse(data.getAttribute("data-charts"));
    var variants = [];
    charts.forEach(function (chart) {
      chart.traces.forEach(function (t) { if (variants.indexOf(t.variant) < 0) { variants.push(t.variant); } });
    });
    charts.forEach(function (chart) {
      var el = document.getElementById("chart-" + chart.id);
      if (!el) { return; }
      var traces = chart.traces.map(function (t) {
        return {
          type: "scatter", mode: "lines", name: t.name, x: t.x, y: t.y,
          line: { dash: t.dash, width: 2, color: COLORS[variants.indexOf(t.variant) % COLORS.length] },
          hovertemplate: "%{y:.3~f} " + chart.unit + "<extra>" + t.name + "</extra>"
        };
      });
      var layout = {
        title: { text: chart.title + " (" + chart.unit + ")", font: { size: 14 } },
        height: 270, margin: { l: 55, r: 15, t: 40, b: 40 },
        hovermode: "x unified", showlegend: true,
        legend: { orientation: "h", y: -0.2 },
        xaxis: { type: "date" }, yaxis: { rangemode: "tozero", title: { text: chart.unit } }
      };
      Plotly.react(el, traces, layout, { displayModeBar: false, responsive: true });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
})();
