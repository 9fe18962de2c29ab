// Areas: the list, and importing a GeoJSON file with the import's report.
import * as api from '../api.js';
import { field, h, listTable, option, setTitle } from '../dom.js';
import { t } from '../i18n.js';

export async function areasView(main) {
  setTitle(t('areas.title'));
  const file = h('input', { type: 'file', name: 'file', accept: '.geojson,.json,application/geo+json', required: true });
  const nameProp = h('input', { type: 'text', name: 'name_property' });
  const kind = h('select', { name: 'kind' }, ['neighbourhood', 'district', 'custom'].map((k) => option(k, t(`areas.kind.${k}`))));
  const skip = h('input', { type: 'checkbox', name: 'skip_invalid' });
  const report = h('section', { class: 'report', 'aria-live': 'polite' });
  const areas = listTable({
    caption: t('areas.table'),
    columns: ['areas.col.name', 'areas.col.code', 'areas.col.kind'].map((k) => t(k)),
    load: async () => (await api.all('/api/v1/areas?limit=500', 5000)).sort((a, b) => a.name.localeCompare(b.name)),
    row: (a) => h('tr', {},
      h('th', { scope: 'row', text: a.name }), h('td', { text: a.code || '' }), h('td', { text: t(`areas.kind.${a.kind}`) })),
  });
  const refresh = areas.refresh;

  const issues = (title, rows) => rows?.length ? [h('h3', { text: title }), h('ul', {}, rows.map((r) => h('li', { text: t('areas.feature', { index: r.index, reason: r.reason }) })))] : [];

  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    report.replaceChildren();
    let body;
    try {
      body = JSON.parse(await file.files[0].text());
    } catch {
      report.append(h('p', { role: 'alert', class: 'notice error', text: t('areas.bad_json') }));
      return;
    }
    try {
      const r = await api.post(`/api/v1/areas/import${api.query({ name_property: nameProp.value.trim(), kind: kind.value, skip_invalid: skip.checked ? 'true' : '' })}`, body);
      report.append(h('h2', { text: t('areas.report') }),
        h('p', { role: 'status', class: 'notice ok', text: t('areas.result', { created: r.created, updated: r.updated }) }),
        ...issues(t('areas.repaired'), r.repaired?.map((x) => ({ ...x, reason: t('areas.repaired_reason') }))), ...issues(t('areas.refused'), r.refused));
      await refresh();
    } catch (err) {
      report.append(h('h2', { text: t('areas.report') }),
        h('p', { role: 'alert', class: 'notice error', text: t('areas.nothing_imported', { detail: err.message }) }),
        ...issues(t('areas.refused'), err.problem?.refused));
    }
  } },
  field(t('areas.file'), file),
  field(t('areas.name_property'), nameProp, t('areas.name_property_hint')),
  field(t('areas.kind'), kind),
  h('label', { class: 'check' }, skip, t('areas.skip_invalid')),
  h('button', { type: 'submit', text: t('areas.import') }));

  main.append(h('h1', { text: t('areas.title') }),
    h('section', { 'aria-labelledby': 'imp-h' }, h('h2', { id: 'imp-h', text: t('areas.import_title') }), form, report),
    areas.element);
  await refresh();
}
