// chart.js: a line chart in SVG: time on x, value on y, grid, axis labels, hover readout.
import { s, h } from './dom.js';
import { compact, date } from './fmt.js';

const W = 640, H = 180, PL = 66, PR = 12, PT = 10, PB = 24;

function niceStep(range, ticks) {
  const raw = range / ticks, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}
const hm = (t) => { const d = new Date(t); return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') + (d.getSeconds() ? ':' + String(d.getSeconds()).padStart(2, '0') : ''); };

// series: [{name, color, points: [[t, v], ...]}]; fmt formats a value.
export function lineChart(series, fmt = compact) {
  const all = series.flatMap((x) => x.points);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  if (!all.length) return h('div', { class: 'chart' }, svg);
  let t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]));
  if (t1 === t0) { t0 -= 30000; t1 += 30000; }
  let vmax = Math.max(...all.map((p) => p[1])), vmin = Math.min(0, ...all.map((p) => p[1]));
  if (vmax === vmin) vmax = vmin + 1;
  let step = niceStep(vmax - vmin, 4);
  // Counts and bytes have no fractions: no ticks between whole numbers.
  if (all.every((p) => Number.isInteger(p[1])) && step < 1) { step = 1; }
  vmax = Math.ceil(vmax / step) * step;
  const x = (t) => PL + ((t - t0) / (t1 - t0)) * (W - PL - PR);
  const y = (v) => PT + (1 - (v - vmin) / (vmax - vmin)) * (H - PT - PB);
  const grid = s('g', { class: 'grid' }), axis = s('g', { class: 'axis' });
  for (let v = vmin; v <= vmax + step / 2; v += step) {
    grid.append(s('line', { x1: PL, x2: W - PR, y1: y(v), y2: y(v) }));
    axis.append(s('text', { x: PL - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  const tstep = niceTime((t1 - t0) / 5);
  for (let t = Math.ceil(t0 / tstep) * tstep; t <= t1; t += tstep)
    axis.append(s('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, hm(t)));
  svg.append(grid, axis);
  for (const sr of series) {
    if (!sr.points.length) continue;
    const pts = sr.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
    if (series.length === 1)
      svg.append(s('path', { class: 'area', fill: sr.color, d: `M${x(sr.points[0][0]).toFixed(1)},${y(vmin)}L${pts.join('L')}L${x(sr.points.at(-1)[0]).toFixed(1)},${y(vmin)}Z` }));
    svg.append(s('path', { class: 'line', stroke: sr.color, d: 'M' + pts.join('L') }));
  }
  // Hover: the nearest sample of each series.
  const hover = s('g', { class: 'hover', visibility: 'hidden' });
  const vline = s('line', { y1: PT, y2: H - PB });
  hover.append(vline);
  const dots = series.map((sr) => { const c = s('circle', { r: 3.5, fill: sr.color }); hover.append(c); return c; });
  const tip = h('div', { class: 'tip muted small', 'aria-live': 'off' }, '\u00a0');
  svg.append(hover);
  svg.addEventListener('mousemove', (e) => {
    const r = svg.getBoundingClientRect();
    const t = t0 + ((e.clientX - r.left) / r.width * W - PL) / (W - PL - PR) * (t1 - t0);
    const parts = [];
    series.forEach((sr, i) => {
      if (!sr.points.length) return;
      let best = sr.points[0];
      for (const p of sr.points) if (Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p;
      vline.setAttribute('x1', x(best[0])); vline.setAttribute('x2', x(best[0]));
      dots[i].setAttribute('cx', x(best[0])); dots[i].setAttribute('cy', y(best[1]));
      parts.push((series.length > 1 ? sr.name + ' ' : '') + fmt(best[1]) + ' at ' + date(best[0]).slice(11));
    });
    hover.setAttribute('visibility', 'visible');
    tip.textContent = parts.join(' · ');
  });
  svg.addEventListener('mouseleave', () => { hover.setAttribute('visibility', 'hidden'); tip.textContent = '\u00a0'; });
  return h('div', { class: 'chart' }, svg, tip);
}
function niceTime(ms) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((x) => x * 1000);
  return steps.find((x) => x >= ms) || 86400000;
}
