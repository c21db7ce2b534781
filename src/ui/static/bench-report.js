// Draws a `flotilla bench --html` report's charts with the dashboard's chart code (charts.js):
// the chart list is the JSON in <script id="charts">, each drawn into <div id="chart-N">.
(() => {
  const charts = JSON.parse(document.getElementById('charts').textContent);
  charts.forEach((c, i) => {
    FlotillaCharts.lineChart(document.getElementById(`chart-${i}`), { ...c, height: c.height ?? 300 });
  });
})();
