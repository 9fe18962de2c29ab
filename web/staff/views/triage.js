// The triage board: new and reopened items, selected in bulk, given a department and a due
// date, and triaged in one request (POST /action-items/bulk, each item all-or-nothing).
import * as api from '../api.js';
import { announcer, clear, field, formatDate, h, option, setTitle } from '../dom.js';
import { lang, t } from '../i18n.js';
import { session } from '../session.js';

export async function triageView(main) {
  setTitle(t('triage.title'));
  const announce = announcer('div');
  const tbody = h('tbody');
  // Only the organization's departments (GET /departments), by label: a typed name would
  // become a department nobody owns.
  const department = h('select', { name: 'department' }, option('', t('triage.keep_department')),
    session.departmentChoices().map((d) => option(d.code, d.label)));
  const due = h('input', { type: 'date', name: 'due_date' });
  const setStatus = h('select', { name: 'status' }, option('triaged', t('status.triaged')), option('planned', t('status.planned')), option('', t('triage.keep_status')));
  const all = h('input', { type: 'checkbox', 'aria-label': t('triage.select_all'), onchange: () => { for (const b of tbody.querySelectorAll('input[type=checkbox]')) b.checked = all.checked; } });
  let items = [];

  async function refresh() {
    const page = await api.get(`/api/v1/action-items${api.query({ status: ['new', 'reopened'], limit: 500 })}`);
    items = page.items.sort((a, b) => b.priority - a.priority);
    all.checked = false;
    tbody.replaceChildren(...items.map((it) => h('tr', {},
      h('td', {}, h('input', { type: 'checkbox', value: it.id, 'aria-label': t('triage.select', { title: it.title }) })),
      h('th', { scope: 'row' }, h('a', { href: `#/items/${it.id}`, text: it.title })),
      h('td', { text: session.categoryLabel(it.category) }),
      h('td', { text: t(`status.${it.status}`) }),
      h('td', { text: String(Math.round(it.priority)) }),
      h('td', { text: session.departmentLabel(it.department) || '–' }),
      h('td', { text: formatDate(it.due_date, lang()) || '–' }))));
    if (!items.length) tbody.append(h('tr', {}, h('td', { colspan: 7, text: t('triage.empty') })));
  }

  async function apply(e) {
    e.preventDefault();
    const chosen = [...tbody.querySelectorAll('input[type=checkbox]:checked')].map((b) => items.find((i) => i.id === b.value));
    if (!chosen.length) { announce.textContent = t('triage.none_selected'); return; }
    const set = {};
    if (setStatus.value) set.status = setStatus.value;
    if (department.value) set.department = department.value;
    if (due.value) set.due_date = due.value;
    if (!Object.keys(set).length) { announce.textContent = t('triage.nothing_to_set'); return; }
    try {
      const { results } = await api.post('/api/v1/action-items/bulk', { ids: chosen.map((i) => ({ id: i.id, version: i.version })), set });
      const ok = results.filter((r) => r.status === 'ok').length;
      const failed = results.filter((r) => r.status !== 'ok');
      // clear(), not replaceChildren(): the DOM writes a null child as the text "null".
      clear(announce, h('p', { text: t('triage.result', { ok, failed: failed.length }) }),
        failed.length ? h('ul', {}, failed.map((r) => h('li', { text: `${items.find((i) => i.id === r.id)?.title || r.id}: ${t(`bulk.${r.status}`)}` }))) : null);
      // Each apply says what it sets: nothing carries over to the next selection unseen.
      department.value = '';
      due.value = '';
      await refresh();
    } catch (err) {
      announce.textContent = err.text ?? err.message;
    }
  }

  main.append(h('h1', { text: t('triage.title') }),
    h('form', { class: 'filters inline', 'aria-label': t('triage.bulk'), onsubmit: apply },
      field(t('triage.status'), setStatus), field(t('filter.department'), department), field(t('triage.due'), due, t('triage.due_hint')),
      h('button', { type: 'submit', text: t('triage.apply') })),
    announce,
    h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { text: t('triage.table') }),
      h('thead', {}, h('tr', {}, h('td', {}, all), ['items.col.title', 'items.col.category', 'items.col.status', 'items.col.priority', 'filter.department', 'items.col.due'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      tbody)));
  await refresh();
}
