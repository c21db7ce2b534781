// Flotilla's time-series charts: thin options over uPlot (a global `uPlot` from uPlot.iife.min.js),
// shared by the live dashboard and `flotilla bench --html` so both draw the same way. Plain browser
// JavaScript, served as it is (no build step): it defines `globalThis.FlotillaCharts`.
//
// Why uPlot and not hand-drawn SVG: one canvas per chart redrawn in well under a millisecond for
// thousands of points, axes with ticks that do not collide, a cursor with a value legend, and time
// axes, all in a 50 kB file with no dependency. SVG written by hand re-creates DOM nodes on every
// update and needed its own tick, label and overlap code (the old bench report's labels ran together).
(() => {
  /** Vertical marker labels are laid out in up to this many rows, so close markers do not overlap. */
  const LABEL_ROWS = 4;
  const LABEL_ROW_PX = 13;

  /** Draws horizontal reference lines (an SLO), shaded x ranges (panic) and labelled markers. */
  function overlays(o) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const { left, top, width, height } = u.bbox;
            const dpr = devicePixelRatio || 1;
            ctx.save();
            ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
            for (const [x0, x1] of o.bands ?? []) {
              const a = Math.max(left, u.valToPos(x0, 'x', true));
              const b = Math.min(left + width, u.valToPos(x1, 'x', true));
              if (b > a) {
                ctx.fillStyle = 'rgba(255, 140, 0, 0.15)';
                ctx.fillRect(a, top, b - a, height);
              }
            }
            for (const h of o.hLines ?? []) {
              const y = u.valToPos(h.y, 'y', true);
              if (y < top || y > top + height) continue;
              ctx.strokeStyle = h.color ?? '#d33';
              ctx.setLineDash([6 * dpr, 4 * dpr]);
              ctx.lineWidth = dpr;
              ctx.beginPath();
              ctx.moveTo(left, y);
              ctx.lineTo(left + width, y);
              ctx.stroke();
              ctx.fillStyle = h.color ?? '#a33';
              ctx.textAlign = 'right';
              ctx.fillText(h.label, left + width - 4 * dpr, y - 4 * dpr);
            }
            ctx.setLineDash([]);
            // Each label goes in the first row where it does not touch the previous label of that row.
            const rowEnds = new Array(LABEL_ROWS).fill(-Infinity);
            ctx.textAlign = 'left';
            for (const m of o.markers ?? []) {
              const x = u.valToPos(m.x, 'x', true);
              if (x < left || x > left + width) continue;
              ctx.strokeStyle = m.color ?? '#999';
              ctx.lineWidth = dpr;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
              const w = ctx.measureText(m.label).width;
              const row = rowEnds.findIndex((end) => x + 3 * dpr > end + 6 * dpr);
              if (row < 0) continue; // no room: the table below names every level
              rowEnds[row] = x + 3 * dpr + w;
              ctx.fillStyle = m.color ?? '#666';
              ctx.fillText(m.label, x + 3 * dpr, top + (row + 1) * LABEL_ROW_PX * dpr);
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  /**
   * A line chart filling its container's width. `o`: title, xLabel, yLabel, time (x in seconds
   * since the epoch), series [{label, color, dash}], data [xs, ...ys], hLines [{y, label}],
   * bands [[x0, x1]], markers [{x, label}], xTicks [{x, label}], height, yMin.
   * Returns {setData(data, extra), chart}; `extra` may replace bands, markers and hLines.
   */
  function lineChart(container, o) {
    const state = { bands: o.bands, markers: o.markers, hLines: o.hLines };
    const width = () => Math.max(320, container.clientWidth || 800);
    const ticks = o.xTicks;
    const opts = {
      title: o.title,
      width: width(),
      height: o.height ?? 220,
      scales: {
        x: { time: o.time === true },
        y: {
          range: (_u, min, max) => {
            const refs = (state.hLines ?? []).map((h) => h.y);
            const hi = Math.max(max ?? 0, ...refs.map((y) => y * 1.15), o.yMin ?? 0);
            const lo = Math.min(min ?? 0, 0);
            return [lo, hi > lo ? hi : lo + 1];
          },
        },
      },
      axes: [
        {
          label: o.xLabel,
          ...(ticks
            ? {
                splits: () => ticks.map((t) => t.x),
                values: () => ticks.map((t) => t.label),
              }
            : {}),
        },
        { label: o.yLabel, size: 60 },
      ],
      series: [
        { label: o.xLabel },
        ...o.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 2,
          ...(s.dash ? { dash: [6, 4] } : {}),
          ...(s.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
          spanGaps: false,
        })),
      ],
      plugins: [overlays(state)],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    const chart = new uPlot(opts, o.data, container);
    const onResize = () => chart.setSize({ width: width(), height: opts.height });
    addEventListener('resize', onResize);
    return {
      chart,
      setData(data, extra) {
        if (extra) Object.assign(state, extra);
        chart.setData(data);
      },
      destroy() {
        removeEventListener('resize', onResize);
        chart.destroy();
      },
    };
  }

  globalThis.FlotillaCharts = { lineChart };
})();
