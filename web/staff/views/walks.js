// Walks: the list with start/end, and a new walk with a route drawn on the map or uploaded
// as GeoJSON or GPX.
import * as api from '../api.js';
import { announcer, confirmStep, field, formatDateTime, h, listTable, option, setTitle } from '../dom.js';
import { lang, t, tn } from '../i18n.js';
import { createMap, emptyCollection, fit } from '../map.js';
import { walkReportButton } from './walkreport.js';

/** Starting a walk planned for later, or ending a live one, asks first: one stray click
 * would open the walk to joining days early, or close it on the participants mid-walk. */
export function confirmWalkStep(w, status) {
  if (status === 'active' && w.starts_at && new Date(w.starts_at) - Date.now() > 60 * 60 * 1000) {
    return confirmStep(t('walks.confirm_early_start', { title: w.title, when: formatDateTime(w.starts_at, lang()) }), t('walks.start'), t('walks.cancel'));
  }
  if (status === 'completed') {
    return confirmStep(t('walks.confirm_end', { title: w.title }), t('walks.end'), t('walks.cancel'));
  }
  return Promise.resolve(true);
}

export async function walksView(main) {
  setTitle(t('walks.title'));
  const announce = announcer();
  // Start and end, from the buttons of each row.
  const setStatus = async (w, status) => {
    if (!(await confirmWalkStep(w, status))) return;
    try {
      await api.patch(`/api/v1/walks/${w.id}`, { status });
      announce.textContent = t('walks.status_changed', { title: w.title, status: t(`walk.${status}`) });
      await walks.refresh();
    } catch (err) {
      announce.textContent = err.text ?? err.message;
    }
    announce.scrollIntoView({ block: 'nearest' });
  };
  const walks = listTable({
    caption: t('walks.table'),
    columns: ['walks.col.title', 'walks.col.status', 'walks.col.starts', 'walks.col.participants', 'walks.col.code', 'walks.col.actions'].map((k) => t(k)),
    load: async () => (await api.all('/api/v1/walks?limit=200', 1000))
      .sort((a, b) => (b.starts_at || b.created_at).localeCompare(a.starts_at || a.created_at)),
    empty: t('walks.none'),
    row: (w) => h('tr', {},
      h('th', { scope: 'row', text: w.title }),
      h('td', { text: t(`walk.${w.status}`) }),
      h('td', { text: formatDateTime(w.starts_at, lang()) }),
      h('td', { text: String(w.participant_count) }),
      h('td', {}, h('code', { text: w.join_code })),
      h('td', {}, h('div', { class: 'buttons' },
        h('a', { href: `#/walks/${w.id}/join`, text: t('walks.join_sheet'), 'aria-label': t('walks.join_sheet_for', { title: w.title }) }),
        h('a', { href: `#/walks/${w.id}/live`, text: t('walks.live'), 'aria-label': t('walks.live_for', { title: w.title }) }),
        walkReportButton(w, (text) => { announce.textContent = text; }),
        w.status === 'planned' ? h('button', { type: 'button', class: 'secondary', text: t('walks.start'), 'aria-label': t('walks.start_for', { title: w.title }), onclick: () => setStatus(w, 'active') }) : null,
        w.status === 'active' ? h('button', { type: 'button', class: 'secondary', text: t('walks.end'), 'aria-label': t('walks.end_for', { title: w.title }), onclick: () => setStatus(w, 'completed') }) : null))),
  });
  main.append(
    h('div', { class: 'title-row' }, h('h1', { text: t('walks.title') }), h('a', { class: 'button', href: '#/walks/new', text: t('walks.new') })),
    announce,
    walks.element);
  await walks.refresh();
}

// A route from a file: the first LineString (or MultiLineString part) of GeoJSON, or the
// first track/route of a GPX file.
export function routeFromText(text, name = '') {
  const trimmed = text.trim();
  if (trimmed.startsWith('<') || /\.gpx$/i.test(name)) {
    const doc = new DOMParser().parseFromString(trimmed, 'application/xml');
    if (doc.querySelector('parsererror')) throw new Error(t('walks.route_bad_file'));
    let points = [...doc.getElementsByTagName('trkpt')];
    if (!points.length) points = [...doc.getElementsByTagName('rtept')];
    const coords = points.map((p) => [Number(p.getAttribute('lon')), Number(p.getAttribute('lat'))]);
    if (coords.length < 2 || coords.some((c) => c.some((v) => !Number.isFinite(v)))) throw new Error(t('walks.route_no_line'));
    return { type: 'LineString', coordinates: coords };
  }
  const json = JSON.parse(trimmed);
  const geoms = json.type === 'FeatureCollection' ? json.features.map((f) => f.geometry) : [json.type === 'Feature' ? json.geometry : json];
  for (const g of geoms) {
    if (g?.type === 'LineString') return { type: 'LineString', coordinates: g.coordinates.map((c) => c.slice(0, 2)) };
    if (g?.type === 'MultiLineString' && g.coordinates.length) return { type: 'LineString', coordinates: g.coordinates[0].map((c) => c.slice(0, 2)) };
  }
  throw new Error(t('walks.route_no_line'));
}

export async function walkNewView(main) {
  setTitle(t('walks.new'));
  const title = h('input', { type: 'text', name: 'title', required: true, maxLength: 200 });
  const area = h('select', { name: 'area_id' }, option('', t('walks.no_area')));
  const starts = h('input', { type: 'datetime-local', name: 'starts_at' });
  const upload = h('input', { type: 'file', name: 'route_file', accept: '.geojson,.json,.gpx,application/geo+json,application/gpx+xml' });
  const message = h('p', { role: 'alert', class: 'notice' });
  const routeInfo = h('p', { role: 'status', class: 'hint' });
  let coords = [];
  let map = null;

  const areas = await api.all('/api/v1/areas?limit=500', 2000).catch(() => []);
  for (const a of areas.sort((x, y) => x.name.localeCompare(y.name))) area.append(option(a.id, a.name));

  const showRoute = () => {
    routeInfo.textContent = coords.length ? tn('walks.route_points', coords.length) : t('walks.route_empty');
    const fc = coords.length > 1
      ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: {} }] }
      : emptyCollection();
    fc.features.push(...coords.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} })));
    map?.getSource('route')?.setData(fc);
  };
  upload.addEventListener('change', async () => {
    const file = upload.files[0];
    if (!file) return;
    try {
      coords = routeFromText(await file.text(), file.name).coordinates;
      message.textContent = '';
      showRoute();
      if (map) fit(map, { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates: coords } }] });
    } catch (err) {
      message.textContent = err instanceof SyntaxError ? t('walks.route_bad_file') : err.message;
    }
  });
  area.addEventListener('change', () => {
    const chosen = areas.find((a) => a.id === area.value);
    if (chosen && map) fit(map, { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: chosen.geometry }] });
  });

  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    const body = { title: title.value.trim() };
    if (area.value) body.area_id = area.value;
    if (starts.value) body.starts_at = new Date(starts.value).toISOString();
    if (coords.length > 1) body.route = { type: 'LineString', coordinates: coords };
    try {
      const walk = await api.post('/api/v1/walks', body);
      location.assign(`#/walks/${walk.id}/join`); // hashchange: the shell renders the sheet
    } catch (err) {
      message.textContent = err.text ?? err.message;
    }
  } },
  field(t('walks.f.title'), title),
  field(t('walks.f.area'), area),
  field(t('walks.f.starts'), starts),
  h('fieldset', {}, h('legend', { text: t('walks.route') }),
    h('p', { class: 'hint', text: t('walks.route_hint') }),
    field(t('walks.route_file'), upload),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'secondary', text: t('walks.route_undo'), onclick: () => { coords.pop(); showRoute(); } }),
      h('button', { type: 'button', class: 'secondary', text: t('walks.route_clear'), onclick: () => { coords = []; showRoute(); } })),
    routeInfo),
  message,
  h('button', { type: 'submit', text: t('walks.create') }));

  const mapEl = h('div', { class: 'map medium', role: 'region', 'aria-label': t('walks.route_map') });
  main.append(h('h1', { text: t('walks.new') }), h('div', { class: 'item-grid' }, form, mapEl));
  showRoute();
  map = await createMap(mapEl);
  map.addSource('route', { type: 'geojson', data: emptyCollection() });
  map.addLayer({ id: 'route-line', type: 'line', source: 'route', paint: { 'line-color': '#1d4ed8', 'line-width': 4 } });
  map.addLayer({ id: 'route-points', type: 'circle', source: 'route', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#fff', 'circle-radius': 4, 'circle-stroke-color': '#1d4ed8', 'circle-stroke-width': 2 } });
  map.getCanvas().style.cursor = 'crosshair';
  map.on('click', (e) => { coords.push([+e.lngLat.lng.toFixed(6), +e.lngLat.lat.toFixed(6)]); showRoute(); });
  mapEl.dataset.ready = 'true'; // clicks now draw the route
  const mapAreas = await api.features('/api/v1/map/areas').catch(() => emptyCollection());
  map.addSource('areas', { type: 'geojson', data: mapAreas });
  map.addLayer({ id: 'areas-line', type: 'line', source: 'areas', paint: { 'line-color': '#64748b', 'line-width': 1 } }, 'route-line');
  fit(map, mapAreas);
  showRoute();
  return () => map.remove();
}
