// Every chart of the portal, drawn with plotly.js from JSON the server puts in data
// attributes (the CSP forbids inline scripts, and htmx drops script tags from swaps).
// Colours come from CSS custom properties in portal.css (--series-N, --status-*,
// --severity-*), so the palette lives in one place. Runs on load and after htmx swaps.
(function () {
  "use strict";
  var CONFIG = { displayModeBar: false, responsive: true };

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }
  function series(i) {
    var count = parseInt(cssVar("--series-count", "6"), 10);
    return cssVar("--series-" + ((i % count) + 1), "#2563eb");
  }
  function statusColor(status) { return cssVar("--status-" + status, cssVar("--status-other", "#6b7280")); }
  function severityColor(severity) { return cssVar("--severity-" + severity, cssVar("--severity-info", "#475569")); }
  // Names and values from AWS or captured data (alarms, principals, features, variants) are
  // text: plotly would render <b>, <a href>, <br> in a label as markup, and %{...} inside a
  // hover template as a value. Entities are what plotly shows as the plain characters.
  function label(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/%/g, "&#37;");
  }
  function variantIndex(list, name) {
    if (list.indexOf(name) < 0) { list.push(name); }
    return list.indexOf(name);
  }

  // Data with holes stays holed: a null y is a period without data, drawn as a gap and
  // never bridged (a line from 0 % before a silence to 18 % after it reads as a climb that
  // never happened). A point with no neighbour would vanish in a line, so it gets a dot.
  function hasPoints(traces) {
    return traces.some(function (t) {
      return (t.y || []).some(function (v) { return v !== null && v !== undefined; });
    });
  }
  function loneDots(y, size) {
    return y.map(function (v, i) {
      var before = i > 0 ? y[i - 1] : null, after = i < y.length - 1 ? y[i + 1] : null;
      return v !== null && before === null && after === null ? size : 0;
    });
  }
  function gapped(trace, dotSize) {
    trace.connectgaps = false;
    if (trace.mode === "lines") {
      trace.mode = "lines+markers";
      trace.marker = { size: loneDots(trace.y, dotSize || 5), color: trace.line && trace.line.color };
    }
    return trace;
  }
  // Never axes around nothing (plotly's empty date axis reads January to November 2000).
  function showEmpty(el) {
    if (el.data) { Plotly.purge(el); }
    el.textContent = "";
    var note = document.createElement("p");
    note.className = "muted chart-empty-note";
    note.textContent = "No data in this window";
    el.appendChild(note);
    el.setAttribute("data-empty", "1");
  }

  // Alarm thresholds as dashed horizontal lines, named; in ALARM they take the bad colour,
  // auto scaling's own (which fire to scale, not because anything is wrong) a quiet one.
  function thresholdShapes(thresholds) {
    return (thresholds || []).map(function (t) {
      var colour = severityColor(t.state === "ALARM" ? "bad" : (t.scaling ? "info" : "warn"));
      return {
        type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: t.value, y1: t.value,
        line: { color: colour, width: 1.5, dash: "dash" },
        label: { text: label(t.label), textposition: "end", yanchor: "top", font: { size: 10, color: colour } }
      };
    });
  }
  // Deploys, traffic shifts and scaling as dotted vertical lines; hovering the words at the
  // top of a line says what changed. Changes seen in the same state share one line, and
  // neighbouring lines' words alternate in height so they do not print over each other.
  var MARK_SEVERITY = { deploy: "warn", traffic: "info", scaling: "ok" };
  function groupMarks(marks) {
    var groups = [];
    (marks || []).forEach(function (m) {
      var last = groups[groups.length - 1];
      if (last && last.time === m.time) {
        last.labels.push(m.label);
        last.details.push(m.detail);
      } else {
        groups.push({ time: m.time, kind: m.kind, labels: [m.label], details: [m.detail] });
      }
    });
    return groups;
  }
  function markColour(group) { return severityColor(MARK_SEVERITY[group.kind] || "info"); }
  function markShapes(groups) {
    return groups.map(function (g) {
      return { type: "line", xref: "x", yref: "paper", x0: g.time, x1: g.time, y0: 0, y1: 1,
               line: { color: markColour(g), width: 1, dash: "dot" } };
    });
  }
  function markAnnotations(groups) {
    return groups.map(function (g, i) {
      return { x: g.time, xref: "x", yref: "paper", y: i % 2 ? 0.9 : 1, yanchor: "top", xanchor: "left",
               showarrow: false, text: label(g.labels.join(", ")),
               hovertext: g.details.map(label).join("<br>"),
               font: { size: 10, color: markColour(g) } };
    });
  }

  // The Metrics tab: one chart per metric, one line per variant, alarm thresholds and
  // change marks over them.
  function metricsPanel(root) {
    var data = root.querySelector ? root.querySelector("#metrics-data") : null;
    if (!data) { return; }
    var charts = JSON.parse(data.getAttribute("data-charts"));
    var marks = groupMarks(JSON.parse(data.getAttribute("data-marks") || "[]"));
    var variants = [];
    charts.forEach(function (chart) {
      chart.traces.forEach(function (t) { variantIndex(variants, t.variant); });
    });
    charts.forEach(function (chart) {
      var el = document.getElementById("chart-" + chart.id);
      if (!el) { return; }
      if (!hasPoints(chart.traces)) { showEmpty(el); return; }
      var traces = chart.traces.map(function (t) {
        return gapped({
          type: "scatter", mode: "lines", name: label(t.name), x: t.x, y: t.y,
          line: { dash: t.dash, width: 2, color: series(variantIndex(variants, t.variant)) },
          hovertemplate: "%{y:.3~f} " + chart.unit + "<extra>" + label(t.name) + "</extra>"
        });
      });
      Plotly.react(el, traces, {
        title: { text: label(chart.title) + " (" + chart.unit + ")", font: { size: 14 } },
        height: 270, margin: { l: 55, r: 15, t: 40, b: 40 },
        hovermode: "x unified", showlegend: true,
        legend: { orientation: "h", y: -0.2 },
        xaxis: { type: "date" }, yaxis: { rangemode: "tozero", title: { text: chart.unit } },
        shapes: thresholdShapes(chart.thresholds).concat(markShapes(marks)),
        annotations: markAnnotations(marks)
      }, CONFIG);
    });
  }

  // The Monitoring tab: executions timeline, drift lines, baseline-vs-run bars.
  var MONITORING = {
    timeline: function (el, chart) {
      var traces = chart.traces.map(function (t) {
        return {
          type: "bar", name: label(t.name), x: t.x,
          // Runs without violations still get a sliver, so every run is visible.
          y: t.y.map(function (v) { return v > 0 ? v : 0.15; }),
          customdata: t.y, marker: { color: statusColor(t.name) },
          hovertemplate: "%{x}<br>%{customdata} violation(s)<extra>" + label(t.name) + "</extra>"
        };
      });
      Plotly.react(el, traces, {
        title: { text: label(chart.title), font: { size: 14 } }, height: 260, barmode: "overlay",
        margin: { l: 45, r: 15, t: 40, b: 40 }, legend: { orientation: "h", y: -0.25 },
        xaxis: { type: "date" }, yaxis: { rangemode: "tozero", title: { text: "violations" } }
      }, CONFIG);
    },
    lines: function (el, chart) {
      var traces = chart.traces.map(function (t, i) {
        return {
          type: "scatter", mode: "lines+markers", name: label(t.name), x: t.x, y: t.y,
          connectgaps: false, line: { width: 1.5, color: series(i) },
          hovertemplate: "%{y:.3f}<extra>" + label(t.name) + "</extra>"
        };
      });
      Plotly.react(el, traces, {
        title: { text: label(chart.title), font: { size: 14 } }, height: 320,
        margin: { l: 50, r: 15, t: 40, b: 40 }, showlegend: false, hovermode: "closest",
        xaxis: { type: "date" }, yaxis: { rangemode: "tozero" }
      }, CONFIG);
    },
    bars: function (el, chart) {
      var categories = chart.x.map(label);
      var traces = [
        { type: "bar", name: "baseline", x: categories, y: chart.baseline, marker: { color: series(0) }, opacity: 0.6 },
        { type: "bar", name: "this run", x: categories, y: chart.current, marker: { color: cssVar("--bad", "#ef4444") }, opacity: 0.6 }
      ];
      Plotly.react(el, traces, {
        title: { text: label(chart.title), font: { size: 14 } }, height: 320, barmode: "overlay",
        margin: { l: 50, r: 15, t: 40, b: 80 }, legend: { orientation: "h", y: -0.35 },
        yaxis: { tickformat: ".0%", title: { text: "share" } }
      }, CONFIG);
    }
  };

  function monitoringCharts(root) {
    root.querySelectorAll(".mm-data").forEach(function (data) {
      JSON.parse(data.getAttribute("data-charts")).forEach(function (chart) {
        var el = document.getElementById("mm-chart-" + chart.id);
        if (!el || !MONITORING[chart.kind]) { return; }
        var empty = chart.kind === "bars" ? !(chart.x || []).length : !hasPoints(chart.traces || []);
        if (empty) { showEmpty(el); } else { MONITORING[chart.kind](el, chart); }
      });
    });
  }

  // The endpoint timeline: error rates and p99 latency per variant, and a row of event
  // markers above them that open their detail page when clicked.
  var KIND_ROW = { alarm: 5, spike: 5, change: 4, shift: 3, monitor: 2, status: 1, scaling: 0 };

  function timeline(root) {
    var el = root.querySelector ? root.querySelector("#timeline-chart") : null;
    if (!el || el.getAttribute("data-drawn")) { return; }
    var lines = JSON.parse(el.getAttribute("data-series"));
    var markers = JSON.parse(el.getAttribute("data-markers"));
    if (!hasPoints(lines) && !markers.length) { showEmpty(el); el.setAttribute("data-drawn", "1"); return; }
    var variants = [];
    var traces = lines.map(function (s) {
      return gapped({
        type: "scatter", mode: "lines", name: label(s.name), x: s.x, y: s.y,
        yaxis: s.axis === "y2" ? "y2" : "y",
        line: { width: 2, dash: s.axis === "y2" ? "dot" : (s.name.indexOf("4XX") >= 0 ? "dash" : "solid"),
                color: series(variantIndex(variants, s.variant)) },
        hovertemplate: "%{y:.3~f}" + (s.axis === "y2" ? " ms" : " %") + "<extra>" + label(s.name) + "</extra>"
      });
    });
    traces.push({
      type: "scatter", mode: "markers", name: "events", yaxis: "y3",
      x: markers.map(function (m) { return m.time; }),
      y: markers.map(function (m) { return KIND_ROW[m.kind] || 0; }),
      customdata: markers.map(function (m) { return m.url; }),
      text: markers.map(function (m) { return label(m.kind + ": " + m.title + (m.who ? " — " + m.who : "")); }),
      marker: { size: 11, symbol: "diamond", color: markers.map(function (m) { return severityColor(m.severity); }) },
      hovertemplate: "%{text}<extra></extra>", showlegend: false
    });
    // On a phone the chart is taller and the event lanes get more of it, so their six
    // labels keep a line each.
    var narrow = el.clientWidth < 600;
    var top = narrow ? 0.62 : 0.72;
    Plotly.react(el, traces, {
      height: narrow ? 520 : 420, margin: { l: 55, r: 55, t: 20, b: 40 }, hovermode: "closest",
      legend: { orientation: "h", y: -0.15 },
      xaxis: { type: "date" },
      yaxis: { domain: [0, top], rangemode: "tozero", title: { text: "error rate %" } },
      yaxis2: { domain: [0, top], overlaying: "y", side: "right", rangemode: "tozero", title: { text: "p99 ms" } },
      yaxis3: { domain: [top + 0.06, 1], range: [-0.5, 5.5], showgrid: false, zeroline: false,
                tickvals: [5, 4, 3, 2, 1, 0], ticktext: ["alarm", "change", "shift", "monitor", "status", "scaling"] },
      shapes: markers.filter(function (m) { return m.severity === "bad"; }).map(function (m) {
        return { type: "line", xref: "x", yref: "paper", x0: m.time, x1: m.time, y0: 0, y1: top,
                 line: { color: severityColor("bad"), width: 1, dash: "dot" } };
      })
    }, CONFIG);
    el.setAttribute("data-drawn", "1");
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (point && point.customdata) { window.location.href = point.customdata; }
    });
  }

  // A staged shift: candidate and baseline error rate and p99 latency, a vertical line
  // where each step went live and where the plan paused, was promoted or rolled back.
  function planChart(root) {
    var el = root.querySelector ? root.querySelector("#plan-chart") : null;
    if (!el || el.getAttribute("data-drawn")) { return; }
    var lines = JSON.parse(el.getAttribute("data-series"));
    var marks = JSON.parse(el.getAttribute("data-boundaries"));
    if (!hasPoints(lines) && !marks.length) { showEmpty(el); el.setAttribute("data-drawn", "1"); return; }
    var variants = [];
    var traces = lines.map(function (s) {
      return {
        type: "scatter", mode: "lines+markers", name: label(s.name), x: s.x, y: s.y,
        yaxis: s.axis === "y2" ? "y2" : "y", marker: { size: 4 }, connectgaps: false,
        line: { width: 2, dash: s.axis === "y2" ? "dot" : (s.name.indexOf("4XX") >= 0 ? "dash" : "solid"),
                color: series(variantIndex(variants, s.variant)) },
        hovertemplate: "%{y:.3~f}" + (s.axis === "y2" ? " ms" : " %") + "<extra>" + label(s.name) + "</extra>"
      };
    });
    Plotly.react(el, traces, {
      height: 340, margin: { l: 55, r: 55, t: 30, b: 40 }, hovermode: "x unified",
      legend: { orientation: "h", y: -0.2 }, xaxis: { type: "date" },
      yaxis: { rangemode: "tozero", title: { text: "error rate %" } },
      yaxis2: { overlaying: "y", side: "right", rangemode: "tozero", title: { text: "p99 ms" } },
      shapes: marks.map(function (m) {
        return { type: "line", xref: "x", yref: "paper", x0: m.time, x1: m.time, y0: 0, y1: 1,
                 line: { color: severityColor(m.severity), width: 1, dash: "dot" } };
      }),
      annotations: marks.map(function (m) {
        return { x: m.time, xref: "x", yref: "paper", y: 1, yanchor: "bottom", showarrow: false,
                 text: label(m.label), font: { size: 10, color: severityColor(m.severity) } };
      })
    }, CONFIG);
    el.setAttribute("data-drawn", "1");
  }

  function draw() {
    if (typeof Plotly === "undefined") { return; }
    metricsPanel(document);
    monitoringCharts(document);
    timeline(document);
    planChart(document);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
