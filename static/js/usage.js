// Lux Billing — the usage pages: stacked charts and the filter form.
//
// Charts are drawn with Chart.js 4.6.1, vendored from the npm package chart.js@4.6.1
// (dist/chart.umd.min.js, MIT: static/js/chart.LICENSE). Each [data-chart="ID"] box draws the
// JSON of its data-chart-data attribute (labels, tooltip titles, series in credits) in its
// canvas #ID-canvas, with colours from the CSS variables --series-N, so they follow the light
// and dark themes. After every htmx swap (htmx:load) and history restore the new content is
// drawn again, and the charts of content swapped out are destroyed.
//
// The filter form is a plain GET form: without JavaScript it submits with its button and the
// page shows the table. With JavaScript a range preset, an interval or a grouping applies at
// once (the form's hx-get swaps #usage-view and pushes the URL), and the dates show only for a
// custom range, applied with their button.
(function () {
  "use strict";

  var numbers = new Intl.NumberFormat("en-US", { maximumFractionDigits: 3 });
  var compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // credits formats a number of credits as the pages do ("12,345.5").
  function credits(v) { return numbers.format(v); }

  // draw draws the chart of one box, replacing any chart its canvas had.
  function draw(box) {
    if (typeof Chart === "undefined") return;
    var id = box.getAttribute("data-chart");
    var canvas = box.querySelector("canvas");
    var json = box.getAttribute("data-chart-data");
    if (!canvas || !json) return;
    var old = Chart.getChart(canvas);
    if (old) old.destroy();
    var data = JSON.parse(json);
    var muted = cssVar("--muted"), grid = cssVar("--border"), surface = cssVar("--surface");
    var datasets = data.series.map(function (s) {
      var colour = cssVar("--series-" + s.swatch) || "#888";
      return {
        label: s.label, data: s.data, stack: "credits",
        backgroundColor: colour, hoverBackgroundColor: colour,
        borderColor: surface, borderWidth: { top: 1 }, borderSkipped: "bottom",
        maxBarThickness: 44, categoryPercentage: 0.82, barPercentage: 0.92
      };
    });
    var chart = new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        layout: { padding: { top: 6 } },
        scales: {
          x: {
            stacked: true,
            grid: { display: false },
            border: { color: grid },
            ticks: { color: muted, maxRotation: 0, autoSkip: true, autoSkipPadding: 14, font: { size: 11 } }
          },
          y: {
            stacked: true,
            beginAtZero: true,
            grid: { color: grid },
            border: { display: false },
            ticks: { color: muted, maxTicksLimit: 6, font: { size: 11 }, callback: function (v) { return compact.format(v); } }
          }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            padding: 10,
            boxPadding: 4,
            usePointStyle: true,
            itemSort: function (a, b) { return b.datasetIndex - a.datasetIndex; },
            filter: function (item) { return item.parsed.y !== 0; },
            callbacks: {
              title: function (items) { return items.length ? data.titles[items[0].dataIndex] : ""; },
              label: function (item) { return " " + item.dataset.label + ": " + credits(item.parsed.y) + " credits"; },
              footer: function (items) {
                if (!items.length) return "";
                // Sum in millicredits: the figures are exact to three decimals.
                var mc = 0;
                var visible = items[0].chart.data.datasets;
                for (var i = 0; i < visible.length; i++) {
                  if (items[0].chart.isDatasetVisible(i)) mc += Math.round(visible[i].data[items[0].dataIndex] * 1000);
                }
                return "Total: " + credits(mc / 1000) + " credits";
              }
            }
          }
        }
      }
    });
    syncLegend(id, chart);
    box.setAttribute("data-ready", "true");
  }

  // syncLegend marks the legend's buttons with the visibility of their series.
  function syncLegend(id, chart) {
    document.querySelectorAll('[data-legend-for="' + id + '"] [data-series]').forEach(function (btn) {
      var i = Number(btn.getAttribute("data-series"));
      btn.setAttribute("aria-pressed", chart.isDatasetVisible(i) ? "true" : "false");
    });
  }

  // A legend button hides or shows its series.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-legend-for] [data-series]");
    if (!btn || typeof Chart === "undefined") return;
    var id = btn.closest("[data-legend-for]").getAttribute("data-legend-for");
    var canvas = document.getElementById(id + "-canvas");
    var chart = canvas && Chart.getChart(canvas);
    if (!chart) return;
    var i = Number(btn.getAttribute("data-series"));
    chart.setDatasetVisibility(i, !chart.isDatasetVisible(i));
    chart.update();
    syncLegend(id, chart);
  });

  // setCustom shows the dates of a custom range and sends them only then: a preset's URL keeps
  // no dates, so a shared link keeps rolling.
  function setCustom(form, custom) {
    form.classList.toggle("is-custom", custom);
    form.querySelectorAll("[data-usage-dates] input").forEach(function (input) { input.disabled = !custom; });
  }

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  document.addEventListener("change", function (ev) {
    var form = ev.target.closest("[data-usage-form]");
    if (!form) return;
    if (ev.target.matches("[data-usage-range]")) {
      var custom = ev.target.value === "custom";
      setCustom(form, custom);
      if (custom) {
        var from = form.querySelector('input[name="from"]');
        if (from) from.focus();
        return;
      }
      submit(form);
    } else if (ev.target.matches("[data-autosubmit]")) {
      submit(form);
    }
  });

  // init prepares what root holds (the page, or content htmx swapped in): forms and charts not
  // drawn yet.
  function init(root) {
    if (!root || !root.querySelectorAll) root = document;
    if (typeof Chart !== "undefined") {
      Object.values(Chart.instances).forEach(function (chart) {
        if (!document.contains(chart.canvas)) chart.destroy(); // swapped out
      });
    }
    var forms = Array.prototype.slice.call(root.querySelectorAll("[data-usage-form]"));
    if (root.matches && root.matches("[data-usage-form]")) forms.push(root);
    forms.forEach(function (form) {
      var range = form.querySelector("[data-usage-range]");
      setCustom(form, range && range.value === "custom");
    });
    var boxes = Array.prototype.slice.call(root.querySelectorAll("[data-chart]"));
    if (root.matches && root.matches("[data-chart]")) boxes.push(root);
    boxes.forEach(function (box) {
      var canvas = box.querySelector("canvas");
      if (typeof Chart !== "undefined" && canvas && Chart.getChart(canvas)) return; // drawn already
      draw(box);
    });
  }

  // A page saved for the back button is drawn again when restored: it keeps no "drawn" mark.
  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll("[data-chart][data-ready]").forEach(function (box) { box.removeAttribute("data-ready"); });
  });
  document.addEventListener("htmx:load", function (ev) { init(ev.target); });
  document.addEventListener("htmx:historyRestore", function () { init(document); });
  if (window.matchMedia) {
    // Colours come from the theme: redraw when it changes.
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
      document.querySelectorAll("[data-chart]").forEach(draw);
    });
  }
  init(document);
})();
