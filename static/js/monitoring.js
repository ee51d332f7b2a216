// Draws the Monitoring tab's charts with plotly.js from the JSON the server puts in the
// data-charts attribute of each .mm-data element (the CSP forbids inline scripts and htmx
// drops script tags). Runs on load and after each htmx swap.
(function () {
  "use strict";
  var STATUS_COLORS = {
    Completed: "#10b981", CompletedWithViolations: "#ef4444", Failed: "#7f1d1d",
    InProgress: "#f59e0b", Pending: "#f59e0b", Stopped: "#6b7280"
  };
  var COLORS = ["#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#0891b2"];
  var CONFIG = { displayModeBar: false, responsive: true };

  function timeline(el, chart) {
    var traces = chart.traces.map(function (t) {
      return {
        type: "bar", name: t.name, x: t.x,
        // Runs without violations still get a sliver, so every run is visible.
        y: t.y.map(function (v) { return v > 0 ? v : 0.15; }),
        customdata: t.y, marker: { color: STATUS_COLORS[t.name] || "#6b7280" },
        hovertemplate: "%{x}<br>%{customdata} violation(s)<extra>" + t.name + "</extra>"
      };
    });
    Plotly.react(el, traces, {
      title: { text: chart.title, font: { size: 14 } }, height: 260, barmode: "overlay",
      margin: { l: 45, r: 15, t: 40, b: 40 }, legend: { orientation: "h", y: -0.25 },
      xaxis: { type: "date" }, yaxis: { rangemode: "tozero", title: { text: "violations" } }
    }, CONFIG);
  }

  function lines(el, chart) {
    var traces = chart.traces.map(function (t, i) {
      return {
        type: "scatter", mode: "lines+markers", name: t.name, x: t.x, y: t.y,
        line: { width: 1.5, color: COLORS[i % COLORS.length] },
        hovertemplate: "%{y:.3f}<extra>" + t.name + "</extra>"
      };
    });
    Plotly.react(el, traces, {
      title: { text: chart.title, font: { size: 14 } }, height: 320,
      margin: { l: 50, r: 15, t: 40, b: 40 }, showlegend: false, hovermode: "closest",
      xaxis: { type: "date" }, yaxis: { rangemode: "tozero" }
    }, CONFIG);
  }

  function bars(el, chart) {
    var traces = [
      { type: "bar", name: "baseline", x: chart.x, y: chart.baseline, marker: { color: "#2563eb" }, opacity: 0.6 },
      { type: "bar", name: "this run", x: chart.x, y: chart.current, marker: { color: "#ef4444" }, opacity: 0.6 }
    ];
    Plotly.react(el, traces, {
      title: { text: chart.title, font: { size: 14 } }, height: 320, barmode: "overlay",
      margin: { l: 50, r: 15, t: 40, b: 80 }, legend: { orientation: "h", y: -0.35 },
      yaxis: { tickformat: ".0%", title: { text: "share" } }
    }, CONFIG);
  }

  var DRAW = { timeline: timeline, lines: lines, bars: bars };

  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll(".mm-data").forEach(function (data) {
      JSON.parse(data.getAttribute("data-charts")).forEach(function (chart) {
        var el = document.getElementById("mm-chart-" + chart.id);
        if (el && DRAW[chart.kind]) { DRAW[chart.kind](el, chart); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
