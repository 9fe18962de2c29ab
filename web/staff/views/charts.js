// Follow-up figures for a chosen period: open, overdue and resolved per area and per
// department, the monthly trend (opened, resolved, overdue), and the median days to resolve per
// month. Every chart has its numbers in a table beside it; numbers, months and dates are
// written as the reader's language writes them (Intl).
import * as api from '../api.js';
import { field, formatDate, h, setTitle } from '../dom.js';
import { lang, locale, number, t } from '../i18n.js';
import { setParams } from '../nav.js';

const SVG = 'http://www.w3.org/2000/svg';
const SERIES = [['open', '#b45309'], ['overdue', '#b91c1c'], ['resolved', '#15803d']];
const TREND = [['opened', '#1d4ed8', ''], ['resolved', '#15803d', '6 3'], ['overdue', '#b91c1c', '2 3']];
const PRESETS = ['30d', 'this_year', 'last_year', 'all'];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const int = (v) => number(v ?? 0, { maximumFractionDigits: 0 });
const days = (v) => (v == null ? '–' : number(v, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));

/** "2026-03" as "mars 2026" (short: "mar. 26"), in the reader's language. */
export function monthName(month, short = false) {
  const [y, m] = month.split('-').map(Number);
  const opts = short ? { month: 'short', year: '2-digit' } : { month: 'long', year: 'numeric' };
  return new Intl.DateTimeFormat(locale(), { ...opts, timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, 15)));
}

// A chart is drawn at the width it is shown at (up to 640), so that its 12 px text stays 12 px
// on a phone instead of shrinking with a wider drawing.
function chartWidth() {
  const main = document.getElementById('main');
  if (!main) return 640;
  const style = getComputedStyle(main);
  const inner = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return Math.round(Math.min(640, Math.max(280, inner || 640)));
}

function groupedBars(groups, title) {
  const rowH = 18 * SERIES.length + 14;
  const width = chartWidth();
  const labelW = width < 480 ? 140 : 160;
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
      svg.append(s('text', { x: labelW + v * scale + 4, y: y + 11, class: 'value' }, int(v)));
    });
  });
  return svg;
}

function table(caption, head, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'figures' }, h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col', text: x })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row', text: r[0] }), r.slice(1).map((c) => h('td', { text: c ?? '–' })))))));
}

function legend(series, prefix) {
  return h('ul', { class: 'swatches inline' }, series.map(([k, c]) => {
    const sw = h('span', { class: 'swatch' });
    sw.style.backgroundColor = c;
    return h('li', {}, sw, t(`${prefix}.${k}`));
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
    const d = (new Date(it.resolved_at) - new Date(it.created_at)) / 86_400_000;
    if (!byMonth.has(month)) byMonth.set(month, []);
    byMonth.get(month).push(d);
  }
  return [...byMonth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, d]) => ({ month, median: median(d), n: d.length }));
}

// Lines over months, one per series ([key, colour, dash]); the points carry `month`.
function lineChart(points, series, title, fmt) {
  const width = chartWidth(), height = 240, pad = 40;
  const max = Math.max(1, ...points.flatMap((p) => series.map(([k]) => p[k] || 0)));
  const x = (i) => pad + (points.length > 1 ? (i * (width - 2 * pad)) / (points.length - 1) : (width - 2 * pad) / 2);
  const y = (v) => height - pad - (v / max) * (height - 2 * pad);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart' });
  svg.append(s('line', { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: '#475569' }));
  // A month's short name ("des. 26") takes about 48 px: no more names than fit.
  const every = Math.ceil(points.length / Math.max(1, Math.min(12, Math.floor((width - 2 * pad) / 48))));
  points.forEach((p, i) => {
    if (i % every === 0) svg.append(s('text', { x: x(i), y: height - pad + 16, 'text-anchor': 'middle', class: 'label' }, monthName(p.month, true)));
  });
  for (const [k, colour, dash] of series) {
    if (points.length > 1) {
      svg.append(s('polyline', { fill: 'none', stroke: colour, 'stroke-width': 3, 'stroke-dasharray': dash || 'none',
        points: points.map((p, i) => `${x(i)},${y(p[k] || 0)}`).join(' ') }));
    }
    points.forEach((p, i) => {
      svg.append(s('circle', { cx: x(i), cy: y(p[k] || 0), r: 3.5, fill: colour }));
      if (series.length === 1) svg.append(s('text', { x: x(i), y: y(p[k]) - 8, 'text-anchor': 'middle', class: 'value' }, fmt(p[k])));
    });
  }
  return svg;
}

// A date input's value (YYYY-MM-DD, local) as the start of that day here, as RFC 3339.
function dayStart(d) {
  if (!d) return undefined;
  const [y, m, dd] = d.split('-').map(Number);
  return new Date(y, m - 1, dd).toISOString();
}
function dayAfter(d) {
  if (!d) return undefined;
  const [y, m, dd] = d.split('-').map(Number);
  return new Date(y, m - 1, dd + 1).toISOString();
}
function iso(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The dates (YYYY-MM-DD) a preset stands for. */
export function preset(name, today = new Date()) {
  const y = today.getFullYear();
  if (name === '30d') return [iso(new Date(y, today.getMonth(), today.getDate() - 29)), iso(today)];
  if (name === 'this_year') return [`${y}-01-01`, iso(today)];
  if (name === 'last_year') return [`${y - 1}-01-01`, `${y - 1}-12-31`];
  return ['', ''];
}

export async function chartsView(main, { params }) {
  setTitle(t('charts.title'));
  const since = h('input', { type: 'date', name: 'since', value: params.get('since') || '' });
  const until = h('input', { type: 'date', name: 'until', value: params.get('until') || '' });
  const shown = h('p', { class: 'period', role: 'status' });
  const body = h('div', { class: 'charts-body' });
  const presets = h('div', { class: 'buttons', role: 'group', 'aria-label': t('charts.presets') },
    PRESETS.map((name) => h('button', { type: 'button', class: 'secondary', text: t(`charts.preset.${name}`), onclick: () => {
      [since.value, until.value] = preset(name);
      changed();
    } })));
  const form = h('form', { class: 'filters period-picker', 'aria-label': t('charts.period'), onsubmit: (e) => { e.preventDefault(); changed(); } },
    field(t('charts.since'), since), field(t('charts.until'), until), presets);
  main.append(h('h1', { text: t('charts.title') }), form, shown, body);
  since.addEventListener('change', changed);
  until.addEventListener('change', changed);

  let seq = 0;
  async function changed() {
    const q = new URLSearchParams();
    if (since.value) q.set('since', since.value);
    if (until.value) q.set('until', until.value);
    setParams(q);
    await draw();
  }

  async function draw() {
    const mine = ++seq;
    if (since.value && until.value && since.value > until.value) {
      shown.textContent = t('charts.bad_period');
      shown.classList.add('error');
      return;
    }
    shown.classList.remove('error');
    const period = { since: dayStart(since.value), until: dayAfter(until.value) };
    shown.textContent = since.value || until.value
      ? t('charts.period_shown', { since: since.value ? formatDate(dayStart(since.value), lang()) : t('charts.beginning'), until: until.value ? formatDate(dayStart(until.value), lang()) : t('charts.today') })
      : t('charts.period_today');
    main.dataset.state = 'loading';
    let data;
    try {
      data = await Promise.all([
        api.get(`/api/v1/stats/follow-up${api.query({ group_by: 'area', ...period })}`),
        api.get(`/api/v1/stats/follow-up${api.query({ group_by: 'department', ...period })}`),
        api.get(`/api/v1/stats/trend${api.query(period)}`),
        api.all(`/api/v1/action-items${api.query({ status: ['resolved', 'verified'], limit: 1000 })}`, 20_000),
      ]);
    } catch (err) {
      if (mine !== seq) return;
      body.replaceChildren(h('p', { role: 'alert', class: 'notice error', text: t('error.load', { detail: err.message }) }));
      main.dataset.state = 'error';
      return;
    }
    if (mine !== seq) return;
    const [byArea, byDept, trend, resolved] = data;
    const blocks = [];
    for (const [key, stats] of [['area', byArea], ['department', byDept]]) {
      const title = t(`charts.by_${key}`);
      const groups = stats.groups.map((g) => ({ ...g, label: g.label || g.key || t('charts.none') }));
      blocks.push(h('section', { class: 'chart-block', 'aria-label': title },
        h('h2', { text: title }), legend(SERIES, 'charts'),
        groups.length ? groupedBars(groups, title) : h('p', { text: t('charts.empty') }),
        h('details', {}, h('summary', { text: t('charts.numbers') }),
          table(title, [t(`charts.${key}`), t('charts.open'), t('charts.overdue'), t('charts.resolved'), t('charts.median_days')],
            groups.map((g) => [g.label, int(g.open), int(g.overdue), int(g.resolved), days(g.median_days_to_resolve)])))));
    }
    const months = trend.months;
    const trendTitle = t('charts.trend');
    blocks.push(h('section', { class: 'chart-block', 'aria-label': trendTitle, dataset: { months: months.length } },
      h('h2', { text: trendTitle }), h('p', { class: 'hint', text: t('charts.trend_hint') }), legend(TREND, 'charts.trend'),
      months.length ? lineChart(months, TREND, trendTitle, int) : h('p', { text: t('charts.empty') }),
      h('details', {}, h('summary', { text: t('charts.numbers') }),
        table(trendTitle, [t('charts.month'), t('charts.trend.opened'), t('charts.trend.resolved'), t('charts.trend.overdue')],
          months.map((m) => [monthName(m.month), int(m.opened), int(m.resolved), int(m.overdue)])))));
    const points = medianDaysByMonth(resolved);
    const title = t('charts.median_over_time');
    blocks.push(h('section', { class: 'chart-block', 'aria-label': title }, h('h2', { text: title }),
      points.length ? lineChart(points, [['median', '#1d4ed8', '']], title, days) : h('p', { text: t('charts.empty') }),
      h('details', {}, h('summary', { text: t('charts.numbers') }),
        table(title, [t('charts.month'), t('charts.median_days'), t('charts.items')], points.map((p) => [monthName(p.month), days(p.median), int(p.n)])))));
    body.replaceChildren(...blocks);
    main.dataset.state = 'idle';
  }
  await draw();
}
