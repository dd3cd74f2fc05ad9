/* callkpi dashboard: charts from data-chart specs, sortable tables, small helpers.
   No inline scripts: the server describes each chart as JSON; values are engine results. */
(function () {
  "use strict";
  const lang = () => document.body.dataset.lang || "en";
  const nf = (digits) => new Intl.NumberFormat(lang() === "ru" ? "ru-RU" : "en-US", {
    maximumFractionDigits: digits, minimumFractionDigits: 0 });
  function fmt(value, unit) {
    if (value === null || value === undefined || value === "-") return "—";
    if (unit === "ratio" || unit === "percent") return nf(1).format(value * 100) + " %";
    if (unit === "per_number") return nf(1).format(value);
    if (unit === "hours") return nf(1).format(value / 3600) + (lang() === "ru" ? " ч" : " h");
    if (unit === "seconds") return nf(1).format(value) + (lang() === "ru" ? " с" : " s");
    if (unit === "count") return nf(0).format(value);
    return nf(2).format(value);
  }
  const palette = ["#2f6fb0", "#e07b39", "#3a9d5d", "#8e5bb5", "#c23b4e"];

  function spark(spec) {
    return {
      animation: false,
      grid: { left: 2, right: 2, top: 4, bottom: 2 },
      xAxis: { type: "category", show: false, data: spec.labels },
      yAxis: { type: "value", show: false, scale: true },
      tooltip: { trigger: "axis", confine: true, valueFormatter: (v) => fmt(v, spec.unit) },
      series: [{ type: "line", data: spec.data, symbol: "none", lineStyle: { width: 1.5, color: palette[0] },
                 areaStyle: { opacity: 0.12, color: palette[0] }, connectNulls: false }],
    };
  }
  function line(spec) {
    const axes = [...new Set(spec.series.map((s) => s.axis || 0))];
    const unitOf = (i) => (spec.series.find((s) => (s.axis || 0) === i) || {}).unit;
    return {
      animation: false,
      color: palette,
      legend: { top: 0 },
      grid: { left: 60, right: axes.length > 1 ? 60 : 20, top: 30, bottom: 40 },
      tooltip: { trigger: "axis", confine: true },
      xAxis: { type: "category", data: spec.labels },
      yAxis: axes.map((i) => ({ type: "value", position: i === 0 ? "left" : "right",
        axisLabel: { formatter: (v) => fmt(v, unitOf(i)) }, splitLine: { show: i === 0 } })),
      series: spec.series.map((s) => ({ name: s.name, type: s.type || "line", data: s.data,
        yAxisIndex: axes.indexOf(s.axis || 0), tooltip: { valueFormatter: (v) => fmt(v, s.unit) } })),
    };
  }
  function histogram(spec) {
    const pick = (kind) => spec.data.map((v, i) => (spec.kinds[i] === kind ? v : "-"));
    return {
      animation: false,
      legend: { top: 0 },
      grid: { left: 50, right: 10, top: 30, bottom: 60 },
      tooltip: { trigger: "axis", confine: true },
      xAxis: { type: "category", data: spec.labels, axisLabel: { rotate: 45 }, name: spec.name + "" },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: spec.name, type: "bar", stack: "t", data: pick(""), itemStyle: { color: palette[0] } },
        { name: spec.legend.short, type: "bar", stack: "t", data: pick("short"), itemStyle: { color: "#e0a030" } },
        { name: spec.legend.long, type: "bar", stack: "t", data: pick("long"), itemStyle: { color: "#c23b4e" } },
      ],
    };
  }
  function heatmap(spec) {
    const max = spec.data.reduce((m, d) => Math.max(m, d[2] || 0), 0);
    return {
      animation: false,
      tooltip: { position: "top", confine: true },
      grid: { left: 90, right: 20, top: 10, bottom: 60 },
      xAxis: { type: "category", data: spec.x, splitArea: { show: true } },
      yAxis: { type: "category", data: spec.y, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(max, 1), calculable: true, orient: "horizontal", left: "center",
                   bottom: 0, itemHeight: 120, inRange: { color: ["#f4f8fc", "#2f6fb0"] } },
      series: [{ name: spec.name, type: "heatmap", data: spec.data, label: { show: spec.data.length < 200 } }],
    };
  }
  /* Means with their confidence intervals at a few points (e.g. before -> after), one series a group:
     spec.labels, spec.unit, spec.series[{name, mean[], low[], high[]}]; a null is left out. */
  function intervals(spec) {
    const shift = (i) => (i - (spec.series.length - 1) / 2) * 0.08;
    const color = (i) => palette[i % palette.length];
    const whiskers = (s, i) => ({
      name: s.name, type: "custom", z: 1, tooltip: { show: false }, itemStyle: { color: color(i) },
      data: s.low.map((lo, j) => [j + shift(i), lo, s.high[j]]).filter((d) => d[1] !== null && d[2] !== null),
      renderItem: (params, api) => {
        const lo = api.coord([api.value(0), api.value(1)]), hi = api.coord([api.value(0), api.value(2)]);
        const style = { stroke: color(i), lineWidth: 1.5 };
        const tick = (y) => ({ type: "line", shape: { x1: lo[0] - 5, y1: y, x2: lo[0] + 5, y2: y }, style });
        return { type: "group", children: [
          { type: "line", shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style }, tick(lo[1]), tick(hi[1])] };
      },
    });
    const means = (s, i) => ({
      name: s.name, type: "line", z: 2, symbolSize: 8, itemStyle: { color: color(i) }, lineStyle: { color: color(i) },
      data: s.mean.map((m, j) => [j + shift(i), m]).filter((d) => d[1] !== null),
      tooltip: { valueFormatter: (v) => fmt(v, spec.unit) },
    });
    const ends = spec.series.flatMap((s) => [...s.low, ...s.high]).filter((v) => v !== null);
    return {
      animation: false,
      color: palette,
      legend: { top: 0, data: spec.series.map((s) => s.name) },
      grid: { left: 60, right: 20, top: 30, bottom: 30 },
      tooltip: { trigger: "item", confine: true },
      xAxis: { type: "value", min: -0.5, max: spec.labels.length - 0.5, interval: 0.5, splitLine: { show: false },
               axisTick: { show: false },
               axisLabel: { formatter: (v) => (Number.isInteger(v) && spec.labels[v] !== undefined ? spec.labels[v] : "") } },
      yAxis: { type: "value", scale: true, axisLine: { onZero: false },
               axisLabel: { formatter: (v) => fmt(v, spec.unit), showMinLabel: false, showMaxLabel: false },
               min: (v) => Math.min(v.min, ...ends), max: (v) => Math.max(v.max, ...ends) },
      series: [...spec.series.map(whiskers), ...spec.series.map(means)],
    };
  }
  const builders = { spark, line, histogram, heatmap, intervals };

  // The chart library (1 MB) is fetched only when a page has a chart; the browser caches it.
  let library = null;
  function loadCharts() {
    if (typeof echarts !== "undefined") return Promise.resolve();
    if (!library) {
      library = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = document.body.dataset.echarts;
        script.onload = resolve;
        script.onerror = () => { library = null; reject(new Error("chart library not loaded")); };
        document.head.appendChild(script);
      });
    }
    return library;
  }
  function draw(el) {
    if (el.dataset.ready) return;
    try {
      const spec = JSON.parse(el.dataset.chart);
      const build = builders[spec.kind];
      if (!build) return;
      const chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption({ aria: { enabled: true }, ...build(spec) });
      el.dataset.ready = "1";
    } catch (err) {
      el.textContent = "chart: " + err;
    }
  }
  function initCharts(root) {
    const pending = Array.from(root.querySelectorAll(".chart[data-chart]")).filter((el) => !el.dataset.ready);
    if (!pending.length) return;
    loadCharts().then(() => pending.forEach(draw), (err) => pending.forEach((el) => { el.textContent = String(err); }));
  }

  function cellValue(row, index, numeric) {
    const cell = row.children[index];
    if (!cell) return numeric ? -Infinity : "";
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    return raw === "" ? -Infinity : parseFloat(raw);
  }
  function sortBy(th) {
    const table = th.closest("table");
    const tbody = table.tBodies[0];
    const index = Array.from(th.parentNode.children).indexOf(th);
    const numeric = th.dataset.sort === "num";
    const desc = th.classList.contains("sorted-asc") || (numeric && !th.classList.contains("sorted-desc"));
    table.querySelectorAll("th").forEach((h) => { h.classList.remove("sorted-asc", "sorted-desc"); h.removeAttribute("aria-sort"); });
    th.classList.add(desc ? "sorted-desc" : "sorted-asc");
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    const rows = Array.from(tbody.rows).filter((r) => !r.querySelector(".empty"));
    rows.sort((a, b) => {
      const x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -order : order;
    });
    rows.forEach((r) => tbody.appendChild(r));
  }

  // A table wider than its box scrolls inside it; the box takes the focus so the keyboard can scroll it.
  function focusableScrollers(root) {
    root.querySelectorAll(".table-wrap").forEach((box) => {
      if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
      else box.removeAttribute("tabindex");
    });
  }

  function init(root) {
    initCharts(root);
    focusableScrollers(root);
    root.querySelectorAll("table.sortable th[data-sort]").forEach((th) => {
      if (th.dataset.bound) return;
      th.dataset.bound = "1";
      // a header with a link inside is reached through the link; a plain one takes the focus itself
      if (!th.querySelector("a, button")) th.tabIndex = 0;
      th.addEventListener("click", (event) => {
        if (event.target.closest("a")) event.preventDefault();
        sortBy(th);
      });
      th.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        sortBy(th);
      });
    });
    root.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
    root.querySelectorAll("select[data-autosubmit]").forEach((s) =>
      s.addEventListener("change", () => s.form.submit()));
  }

  function initMenu() {
    const toggle = document.getElementById("menu-toggle");
    if (!toggle) return;
    document.documentElement.classList.add("menu-js");
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.documentElement.classList.toggle("menu-open", open);
    });
  }

  document.addEventListener("DOMContentLoaded", () => { initMenu(); init(document); });
  document.addEventListener("htmx:afterSettle", (event) => init(event.target));
  window.addEventListener("resize", () => {
    focusableScrollers(document);
    if (typeof echarts === "undefined") return;
    document.querySelectorAll(".chart[data-ready]").forEach((el) => {
      const chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
  window.callkpi = { fmt, sortBy };
})();
