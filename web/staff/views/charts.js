// Follow-up figures as charts: open, overdue and resolved per area and per department, and
// the median days to resolve per month. Every chart has its numbers in a table beside it.
import * as api from '../api.js';
import { h, setTitle } from '../dom.js';
import { t } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const SERIES = [['open', '#b45309'], ['overdue', '#b91c1c'], ['resolved', '#15803d']];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function groupedBars(groups, title) {
  const rowH = 18 * SERIES.length + 14;
  const labelW = 160;
  const width = 640;
  const max = Math.max(1, ...groups.flatMap((g) => SERIES.map(([k]) => g[k] || 0)));
  const scale = (width - labelW - 50) / max;
  const svg = s('svg', { viewBox: `0 0 ${width} ${Math.max(rowH * groups.length, 30)}`, role: 'img', 'aria-label': title, class: 'chart' });
  groups.forEach((g, i) => {
    const y0 = i * rowH;
    svg.append(s('text', { x: 0, y: y0 + rowH / 2, 'dominant-baseline': 'middle', class: 'label' }, (g.label || '–').slice(0, 22)));
    SERIES.forEach(([k, colour], j) => {
      const v = g[k] || 0;
      const y = y0 + 4 + j * 18;
      svg.append(s('rect', { x: labelW, y, width: Math.max(v * scale, v ? 2 : 0), height: 14, fill: colour }));
      svg.append(s('text', { x: labelW + v * scale + 4, y: y + 11, class: 'value' }, v));
    });
  });
  return svg;
}

function table(caption, head, rows) {
  return h('table', { class: 'figures' }, h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col', text: x })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row', text: r[0] }), r.slice(1).map((c) => h('td', { text: c ?? '–' }))))));
}

function legend() {
  return h('ul', { class: 'swatches inline' }, SERIES.map(([k, c]) => {
    const sw = h('span', { class: 'swatch' });
    sw.style.backgroundColor = c;
    return h('li', {}, sw, t(`charts.${k}`));
  }));
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Median days from an item's creation to its resolution, by month of resolution.
export function medianDaysByMonth(items) {
  const byMonth = new Map();
  for (const it of items) {
    if (!it.resolved_at) continue;
    const month = it.resolved_at.slice(0, 7);
    const days = (new Date(it.resolved_at) - new Date(it.created_at)) / 86_400_000;
    if (!byMonth.has(month)) byMonth.set(month, []);
    byMonth.get(month).push(days);
  }
  return [...byMonth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, d]) => ({ month, median: median(d), n: d.length }));
}

function lineChart(points, title) {
  const width = 640, height = 220, pad = 36;
  const max = Math.max(1, ...points.map((p) => p.median));
  const x = (i) => pad + (points.length > 1 ? (i * (width - 2 * pad)) / (points.length - 1) : (width - 2 * pad) / 2);
  const y = (v) => height - pad - (v / max) * (height - 2 * pad);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart' });
  svg.append(s('line', { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: '#475569' }));
  if (points.length > 1) svg.append(s('polyline', { fill: 'none', stroke: '#1d4ed8', 'stroke-width': 3, points: points.map((p, i) => `${x(i)},${y(p.median)}`).join(' ') }));
  points.forEach((p, i) => {
    svg.append(s('circle', { cx: x(i), cy: y(p.median), r: 4, fill: '#1d4ed8' }));
    svg.append(s('text', { x: x(i), y: height - pad + 16, 'text-anchor': 'middle', class: 'label' }, p.month));
    svg.append(s('text', { x: x(i), y: y(p.median) - 8, 'text-anchor': 'middle', class: 'value' }, p.median.toFixed(1)));
  });
  return svg;
}

export async function chartsView(main) {
  setTitle(t('charts.title'));
  main.append(h('h1', { text: t('charts.title') }), legend());
  const [byArea, byDept, resolved] = await Promise.all([
    api.get('/api/v1/stats/follow-up?group_by=area'),
    api.get('/api/v1/stats/follow-up?group_by=department'),
    api.all(`/api/v1/action-items${api.query({ status: ['resolved', 'verified'], limit: 1000 })}`, 20_000),
  ]);
  for (const [key, data] of [['area', byArea], ['department', byDept]]) {
    const title = t(`charts.by_${key}`);
    const groups = data.groups.map((g) => ({ ...g, label: g.label || g.key || t('charts.none') }));
    main.append(h('section', { class: 'chart-block', 'aria-label': title },
      h('h2', { text: title }),
      groups.length ? groupedBars(groups, title) : h('p', { text: t('charts.empty') }),
      h('details', {}, h('summary', { text: t('charts.numbers') }),
        table(title, [t(`charts.${key}`), t('charts.open'), t('charts.overdue'), t('charts.resolved'), t('charts.median_days')],
          groups.map((g) => [g.label, g.open, g.overdue, g.resolved, g.median_days_to_resolve == null ? null : Number(g.median_days_to_resolve).toFixed(1)])))));
  }
  const points = medianDaysByMonth(resolved);
  const title = t('charts.median_over_time');
  main.append(h('section', { class: 'chart-block', 'aria-label': title }, h('h2', { text: title }),
    points.length ? lineChart(points, title) : h('p', { text: t('charts.empty') }),
    h('details', {}, h('summary', { text: t('charts.numbers') }),
      table(title, [t('charts.month'), t('charts.median_days'), t('charts.items')], points.map((p) => [p.month, p.median.toFixed(1), p.n])))));
}
