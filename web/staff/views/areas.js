// Areas: the list, editing an area (its name, and its outline from a GeoJSON file), deleting
// one after a confirmation, and importing a GeoJSON file with the import's report in the
// reader's language (features numbered from 1, as a person counts them).
import * as api from '../api.js';
import { announcer, field, h, listTable, option, setTitle } from '../dom.js';
import { t, tn } from '../i18n.js';

const POLYGONS = ['Polygon', 'MultiPolygon'];

/** The one (multi)polygon in a GeoJSON text: a geometry, a Feature, or a FeatureCollection of
 * one feature; null when there is not exactly one. */
export function singleGeometry(text) {
  let obj;
  try { obj = JSON.parse(text); } catch { return null; }
  if (obj?.type === 'FeatureCollection') obj = obj.features?.length === 1 ? obj.features[0] : null;
  if (obj?.type === 'Feature') obj = obj.geometry;
  return obj && POLYGONS.includes(obj.type) ? obj : null;
}

// Each issue in words: what is wrong, then the service's detail in the reader's language (a
// fault GEOS found, with where; only a fault the catalogue does not know keeps GEOS's own
// words, and the detail then says it is a technical one).
function issueList(title, rows) {
  if (!rows?.length) return [];
  return [h('h3', { text: title }), h('ul', {}, rows.map((r) => {
    const reason = t(`areas.reason.${r.code}`);
    return h('li', {},
      t('areas.feature', { index: r.feature ?? r.index + 1, reason }),
      ['bad_geometry', 'repaired'].includes(r.code) && r.detail
        ? h('p', { class: 'hint detail', text: r.detail })
        : null);
  }))];
}

export async function areasView(main) {
  setTitle(t('areas.title'));
  const file = h('input', { type: 'file', name: 'file', accept: '.geojson,.json,application/geo+json', required: true });
  const nameProp = h('input', { type: 'text', name: 'name_property' });
  const kind = h('select', { name: 'kind' }, ['neighbourhood', 'district', 'custom'].map((k) => option(k, t(`areas.kind.${k}`))));
  const skip = h('input', { type: 'checkbox', name: 'skip_invalid' });
  const report = h('section', { class: 'report', 'aria-live': 'polite' });
  const said = announcer();

  // Editing and deleting happen in one modal dialog (the browser keeps focus inside it).
  const dialog = h('dialog', { class: 'area-dialog', 'aria-labelledby': 'area-dialog-h' });
  const closeDialog = () => dialog.close();

  function editArea(a) {
    const name = h('input', { type: 'text', name: 'name', value: a.name, required: true, maxLength: 200 });
    const outline = h('input', { type: 'file', name: 'geometry', accept: '.geojson,.json,application/geo+json' });
    const error = h('p', { role: 'alert', class: 'notice error', hidden: true });
    const fail = (text) => { error.textContent = text; error.hidden = false; };
    dialog.replaceChildren(h('form', { class: 'stack', onsubmit: async (e) => {
      e.preventDefault();
      const body = {};
      if (name.value.trim() && name.value.trim() !== a.name) body.name = name.value.trim();
      if (outline.files[0]) {
        const geometry = singleGeometry(await outline.files[0].text());
        if (!geometry) return fail(t('areas.edit.bad_file'));
        body.geometry = geometry;
      }
      if (!Object.keys(body).length) return closeDialog();
      try {
        await api.patch(`/api/v1/areas/${a.id}`, body);
      } catch (err) {
        return fail(t('areas.edit.failed', { detail: err.message }));
      }
      closeDialog();
      await refresh();
      said.textContent = t('areas.edit.saved', { name: body.name || a.name });
    } },
    h('h2', { id: 'area-dialog-h', text: t('areas.edit.title', { name: a.name }) }),
    field(t('areas.col.name'), name),
    field(t('areas.edit.outline'), outline, t('areas.edit.outline_hint')),
    error,
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', text: t('areas.edit.save') }),
      h('button', { type: 'button', class: 'secondary', text: t('areas.cancel'), onclick: closeDialog }))));
    dialog.showModal();
  }

  function deleteArea(a) {
    const error = h('p', { role: 'alert', class: 'notice error', hidden: true });
    dialog.replaceChildren(
      h('h2', { id: 'area-dialog-h', text: t('areas.delete.title', { name: a.name }) }),
      h('p', { text: t('areas.delete.consequence') }),
      error,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'danger', text: t('areas.delete.confirm'), onclick: async () => {
          try {
            await api.request('DELETE', `/api/v1/areas/${a.id}`);
          } catch (err) {
            error.textContent = t('areas.delete.failed', { detail: err.message });
            error.hidden = false;
            return;
          }
          closeDialog();
          await refresh();
          said.textContent = t('areas.delete.done', { name: a.name });
        } }),
        h('button', { type: 'button', class: 'secondary', text: t('areas.cancel'), onclick: closeDialog, autofocus: true })));
    dialog.showModal();
  }

  const areas = listTable({
    caption: t('areas.table'),
    columns: ['areas.col.name', 'areas.col.code', 'areas.col.kind', 'areas.col.actions'].map((k) => t(k)),
    load: async () => (await api.all('/api/v1/areas?limit=500', 5000)).sort((a, b) => a.name.localeCompare(b.name)),
    row: (a) => h('tr', {},
      h('th', { scope: 'row', text: a.name }), h('td', { text: a.code || '' }), h('td', { text: t(`areas.kind.${a.kind}`) }),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: t('areas.edit'), 'aria-label': t('areas.edit_named', { name: a.name }), onclick: () => editArea(a) }),
        h('button', { type: 'button', class: 'secondary danger', text: t('areas.delete'), 'aria-label': t('areas.delete_named', { name: a.name }), onclick: () => deleteArea(a) }))),
    empty: t('areas.none'),
  });
  const refresh = areas.refresh;

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
        h('p', { role: 'status', class: 'notice ok', text: t('areas.result', { created: tn('areas.created', r.created), updated: tn('areas.updated', r.updated) }) }),
        ...issueList(t('areas.repaired'), r.repaired), ...issueList(t('areas.refused'), r.refused));
      await refresh();
    } catch (err) {
      const refused = err.problem?.refused;
      report.append(h('h2', { text: t('areas.report') }),
        h('p', { role: 'alert', class: 'notice error', text: refused?.length ? t('areas.nothing_imported_fix') : t('areas.nothing_imported', { detail: err.message }) }),
        ...issueList(t('areas.refused'), refused));
    }
  } },
  field(t('areas.file'), file),
  field(t('areas.name_property'), nameProp, t('areas.name_property_hint')),
  field(t('areas.kind'), kind),
  h('label', { class: 'check' }, skip, t('areas.skip_invalid')),
  h('button', { type: 'submit', text: t('areas.import') }));

  main.append(h('h1', { text: t('areas.title') }), said,
    areas.element,
    h('section', { 'aria-labelledby': 'imp-h' }, h('h2', { id: 'imp-h', text: t('areas.import_title') }), form, report),
    dialog);
  await refresh();
}
