// Draws an endpoint's timeline with plotly.js: error rates and p99 latency per variant,
// and a row of event markers above them that open their detail page when clicked.
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#0891b2"];
  var KIND_ROW = { alarm: 5, change: 4, shift: 3, monitor: 2, status: 1, scaling: 0 };
  var SEVERITY = { bad: "#dc2626", warn: "#d97706", ok: "#16a34a", info: "#475569" };

  function draw() {
    var el = document.getElementById("timeline-chart");
    if (!el || typeof Plotly === "undefined") { return; }
    var series = JSON.parse(el.getAttribute("data-series"));
    var markers = JSON.parse(el.getAttribute("data-markers"));
    var variants = [];
    series.forEach(function (s) { if (variants.indexOf(s.variant) < 0) { variants.push(s.variant); } });
    var traces = series.map(function (s) {
      return {
        type: "scatter", mode: "lines", name: s.name, x: s.x, y: s.y,
        yaxis: s.axis === "y2" ? "y2" : "y",
        line: { width: 2, dash: s.axis === "y2" ? "dot" : (s.name.indexOf("4XX") >= 0 ? "dash" : "solid"),
                color: COLORS[variants.indexOf(s.variant) % COLORS.length] },
        hovertemplate: "%{y:.3~f}" + (s.axis === "y2" ? " ms" : " %") + "<extra>" + s.name + "</extra>"
      };
    });
    traces.push({
      type: "scatter", mode: "markers", name: "events", yaxis: "y3",
      x: markers.map(function (m) { return m.time; }),
      y: markers.map(function (m) { return KIND_ROW[m.kind] || 0; }),
      customdata: markers.map(function (m) { return m.url; }),
      text: markers.map(function (m) { return m.kind + ": " + m.title + (m.who ? " — " + m.who : ""); }),
      marker: { size: 11, symbol: "diamond", color: markers.map(function (m) { return SEVERITY[m.severity] || SEVERITY.info; }) },
      hovertemplate: "%{text}<extra></extra>", showlegend: false
    });
    var layout = {
      height: 420, margin: { l: 55, r: 55, t: 20, b: 40 }, hovermode: "closest",
      legend: { orientation: "h", y: -0.15 },
      xaxis: { type: "date" },
      yaxis: { domain: [0, 0.72], rangemode: "tozero", title: { text: "error rate %" } },
      yaxis2: { domain: [0, 0.72], overlaying: "y", side: "right", rangemode: "tozero", title: { text: "p99 ms" } },
      yaxis3: { domain: [0.78, 1], range: [-0.5, 5.5], showgrid: false, zeroline: false,
                tickvals: [5, 4, 3, 2, 1, 0], ticktext: ["alarm", "change", "shift", "monitor", "status", "scaling"] },
      shapes: markers.filter(function (m) { return m.severity === "bad"; }).map(function (m) {
        return { type: "line", xref: "x", yref: "paper", x0: m.time, x1: m.time, y0: 0, y1: 0.72,
                 line: { color: "#dc2626", width: 1, dash: "dot" } };
      })
    };
    Plotly.react(el, traces, layout, { displayModeBar: false, responsive: true });
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (point && point.customdata) { window.location.href = point.customdata; }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
