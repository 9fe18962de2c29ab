// "My items": the department's open items, overdue first, then by priority; filterable.
import * as api from '../api.js';
import { setParams } from '../nav.js';
import { field, formatDate, h, option, setTitle } from '../dom.js';
import { lang, t, tn } from '../i18n.js';
import { session } from '../session.js';

export const OPEN_STATUSES = ['new', 'triaged', 'planned', 'in_progress', 'reopened'];

export function sortForWork(items) {
  return [...items].sort((a, b) => (b.overdue - a.overdue) || (b.priority - a.priority));
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, text: t(`status.${status}`) });
}

export async function itemsView(main, { params, me }) {
  setTitle(t('items.title'));
  const department = h('select', { name: 'department' }, option('', t('filter.all_departments')),
    session.departmentChoices().map((d) => option(d.code, d.label)));
  const status = h('select', { name: 'status' }, option('', t('filter.open')),
    OPEN_STATUSES.map((s) => option(s, t(`status.${s}`))), option('resolved', t('status.resolved')));
  const category = h('select', { name: 'category' }, option('', t('filter.all_categories')),
    session.categories.filter((c) => c.actionable).map((c) => option(c.code, session.categoryLabel(c.code))));
  const overdue = h('input', { type: 'checkbox', name: 'overdue' });
  const wanted = params.has('department') ? params.get('department') : me.department || '';
  // A department the list lacks (an old link) is kept as a choice rather than dropped.
  if (wanted && !session.departments.some((d) => d.code === wanted)) department.append(option(wanted, wanted));
  department.value = wanted;
  status.value = params.get('status') || '';
  category.value = params.get('category') || '';
  overdue.checked = params.get('overdue') === 'true';

  const tbody = h('tbody');
  const summary = h('p', { role: 'status', class: 'count' });
  const table = h('table', { class: 'items' },
    h('caption', { text: t('items.table') }),
    h('thead', {}, h('tr', {}, ['items.col.title', 'items.col.category', 'items.col.status', 'items.col.priority', 'items.col.due'].map(
      (k) => h('th', { scope: 'col', text: t(k), class: k === 'items.col.category' || k === 'items.col.priority' ? 'narrow-hide' : '' })))),
    tbody);

  const refresh = async () => {
    const q = new URLSearchParams();
    if (department.value !== (me.department || '')) q.set('department', department.value);
    if (status.value) q.set('status', status.value);
    if (category.value) q.set('category', category.value);
    if (overdue.checked) q.set('overdue', 'true');
    setParams(q);
    summary.textContent = t('loading');
    const page = await api.get(`/api/v1/action-items${api.query({
      department: department.value,
      status: status.value ? [status.value] : OPEN_STATUSES,
      category: category.value,
      overdue: overdue.checked ? 'true' : '',
      limit: 500,
    })}`);
    const items = sortForWork(page.items);
    tbody.replaceChildren(...items.map((it) => h('tr', { class: it.overdue ? 'overdue' : '' },
      h('th', { scope: 'row' }, h('a', { href: `#/items/${it.id}`, text: it.title }),
        it.asset ? h('span', { class: 'badge lamp', text: t('items.lamp', { number: it.asset.external_id }) }) : null),
      h('td', { class: 'narrow-hide', text: session.categoryLabel(it.category) }),
      h('td', {}, statusBadge(it.status)),
      h('td', { class: 'narrow-hide', text: Math.round(it.priority) }),
      h('td', {}, formatDate(it.due_date, lang()), it.overdue ? h('span', { class: 'badge overdue', text: t('items.overdue') }) : null))));
    summary.textContent = tn('items.count', items.length);
  };
  for (const c of [department, status, category, overdue]) c.addEventListener('change', refresh);

  main.append(
    h('h1', { text: t('items.title') }),
    h('form', { class: 'filters inline', 'aria-label': t('items.filters'), onsubmit: (e) => { e.preventDefault(); refresh(); } },
      field(t('filter.department'), department),
      field(t('filter.status'), status),
      field(t('filter.category'), category),
      h('label', { class: 'check' }, overdue, t('filter.overdue_only'))),
    summary,
    h('div', { class: 'table-wrap' }, table));
  await refresh();
}
