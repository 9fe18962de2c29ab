// The planner's map: observations (clustered when dense), action items by status, areas shaded
// by open items, hotspot cells by class. Filters live in the URL so a view can be shared.
import * as api from '../api.js';
import { setParams } from '../nav.js';
import { field, h, option, saveResponse, setTitle } from '../dom.js';
import { t } from '../i18n.js';
import { createMap, emptyCollection, fit, STATUS_COLOURS, statusColourExpression } from '../map.js';
import { session } from '../session.js';

export const ITEM_STATUSES = ['new', 'triaged', 'planned', 'in_progress', 'reopened', 'resolved', 'verified', 'wont_fix', 'referred', 'duplicate'];
const HOTSPOT_COLOURS = {
  hot_99: '#b91c1c', hot_95: '#ef4444', hot_90: '#fca5a5',
  cold_99: '#1d4ed8', cold_95: '#3b82f6', cold_90: '#93c5fd',
  not_significant: '#a1a1aa', insufficient_data: '#d4d4d8',
};
const FILTERS = ['category', 'status', 'area', 'since', 'until'];
const LAYERS = {
  areas: ['areas-fill', 'areas-line'],
  hotspots: ['hotspots-fill', 'hotspots-line'],
  items: ['items'],
  observations: ['obs-clusters', 'obs-points'],
  lamps: ['lamps'],
  dark_gaps: ['dark-gaps'],
};

function dayStart(d) { return d ? `${d}T00:00:00Z` : undefined; }
function dayAfter(d) {
  if (!d) return undefined;
  const x = new Date(`${d}T00:00:00Z`);
  x.setUTCDate(x.getUTCDate() + 1);
  return x.toISOString().replace('.000Z', 'Z');
}

export async function mapView(main, { params }) {
  setTitle(t('map.title'));
  main.classList.add('map-page');
  main.dataset.state = 'loading';

  const controls = {
    category: h('select', { name: 'category' }, option('', t('filter.all_categories')),
      session.categories.map((c) => option(c.code, session.categoryLabel(c.code)))),
    status: h('select', { name: 'status' }, option('', t('filter.all_statuses')),
      ITEM_STATUSES.map((s) => option(s, t(`status.${s}`)))),
    area: h('select', { name: 'area' }, option('', t('filter.all_areas'))),
    since: h('input', { type: 'date', name: 'since' }),
    until: h('input', { type: 'date', name: 'until' }),
  };
  const count = h('p', { role: 'status', id: 'map-count', class: 'count', text: t('map.loading') });
  const method = h('p', { class: 'method' });
  // The hotspot classes in plain words; the statistics behind them one click away.
  const legend = h('div', { class: 'legend' },
    h('h2', { text: t('map.legend') }),
    h('ul', { class: 'swatches' }, Object.entries(STATUS_COLOURS).map(([s, c]) =>
      h('li', {}, h('span', { class: 'swatch round', dataset: { colour: c } }), t(`status.${s}`)))),
    h('h2', { text: t('map.hotspots_title') }),
    h('ul', { class: 'swatches hotspot-legend' }, Object.entries(HOTSPOT_COLOURS).map(([k, c]) =>
      h('li', {}, h('span', { class: 'swatch', dataset: { colour: c } }), t(`hotspot.plain.${k}`)))),
    h('details', { class: 'method-details' }, h('summary', { text: t('map.hotspots_how') }),
      h('p', { text: t('map.hotspots_explained') }),
      method));
  for (const sw of legend.querySelectorAll('.swatch')) sw.style.backgroundColor = sw.dataset.colour;

  const toggles = Object.keys(LAYERS).map((name) => {
    const box = h('input', { type: 'checkbox', checked: true, name: `layer-${name}`, onchange: () => {
      for (const id of LAYERS[name]) map?.setLayoutProperty(id, 'visibility', box.checked ? 'visible' : 'none');
    } });
    return h('label', { class: 'check' }, box, t(`layer.${name}`));
  });

  const exportButton = (label, build, filename) => h('button', { type: 'button', class: 'secondary', text: label, onclick: async () => {
    try { await saveResponse(await api.raw('GET', build()), filename); } catch (err) { count.textContent = err.message; }
  } });
  // The chosen area's action list in every format the service offers.
  const areaExports = ['csv', 'xlsx', 'gpkg', 'pdf'].map((fmt) => exportButton(
    t(`export.action_list_${fmt}`), () => `/api/v1/areas/${controls.area.value}/action-list?format=${fmt}`, `action-list.${fmt}`));
  // Greyed out, they say why: the action list is per area.
  const exportHint = h('p', { id: 'area-export-hint', class: 'hint', text: t('export.choose_area') });
  for (const button of areaExports) button.setAttribute('aria-describedby', exportHint.id);

  const form = h('form', { class: 'filters', 'aria-label': t('map.filters'), onsubmit: (e) => e.preventDefault() },
    field(t('filter.category'), controls.category),
    field(t('filter.status'), controls.status),
    field(t('filter.area'), controls.area),
    field(t('filter.since'), controls.since),
    field(t('filter.until'), controls.until),
    h('button', { type: 'button', class: 'secondary', text: t('filter.clear'), onclick: () => {
      for (const k of FILTERS) controls[k].value = '';
      changed();
    } }));

  const mapEl = h('div', { class: 'map', role: 'region', 'aria-label': t('map.region') });
  main.append(
    h('div', { class: 'map-side' },
      h('h1', { text: t('map.title') }),
      form,
      count,
      h('fieldset', { class: 'layers' }, h('legend', { text: t('map.layers') }), toggles),
      legend,
      h('section', { 'aria-labelledby': 'exports-h' },
        h('h2', { id: 'exports-h', text: t('export.title') }),
        h('div', { class: 'buttons' },
          exportButton(t('export.observations'), () => `/api/v1/map/observations${api.query({ ...obsFilter(), limit: 10000 })}`, 'observations.geojson'),
          exportButton(t('export.items'), () => `/api/v1/map/action-items${api.query(itemFilter())}`, 'action-items.geojson'),
          exportButton(t('export.areas'), () => '/api/v1/map/areas', 'areas.geojson'),
          exportButton(t('export.hotspots'), () => `/api/v1/map/hotspots${api.query(hotspotFilter())}`, 'hotspots.geojson'),
          ...areaExports),
        exportHint)),
    mapEl);

  for (const k of FILTERS) controls[k].value = params.get(k) || '';
  for (const k of FILTERS) controls[k].addEventListener('change', changed);

  function obsFilter() {
    return { category: controls.category.value, area_id: controls.area.value, since: dayStart(controls.since.value), until: dayAfter(controls.until.value) };
  }
  function itemFilter() {
    return { category: controls.category.value, area_id: controls.area.value, status: controls.status.value };
  }
  function hotspotFilter() {
    return { category: controls.category.value, area_id: controls.area.value, since: dayStart(controls.since.value), until: dayAfter(controls.until.value) };
  }

  let map = null;
  let controller = null;
  let fitted = false;

  function changed() {
    const q = new URLSearchParams();
    for (const k of FILTERS) if (controls[k].value) q.set(k, controls[k].value);
    setParams(q);
    load();
  }

  // The feeds are fetched while the map library loads; the data goes in once both are there.
  function fetchFeeds(signal) {
    return Promise.all([
      api.features(`/api/v1/map/observations${api.query({ ...obsFilter(), limit: 10000 })}`, 50_000, signal),
      api.features(`/api/v1/map/action-items${api.query(itemFilter())}`, 50_000, signal),
      api.features('/api/v1/map/areas', 10_000, signal),
      api.request('GET', `/api/v1/map/hotspots${api.query(hotspotFilter())}`, { signal }).catch((err) => {
        if (err.name === 'AbortError') throw err;
        return emptyCollection();
      }),
      api.features('/api/v1/map/assets?kind=street_light', 50_000, signal).catch(() => emptyCollection()),
      // The chosen area's walks: the stretches of their routes no working lamp lights.
      controls.area.value
        ? api.features(`/api/v1/areas/${controls.area.value}/dark-gaps`, 10_000, signal).catch(() => emptyCollection())
        : Promise.resolve(emptyCollection()),
    ]);
  }

  async function load(pending) {
    if (!pending) {
      controller?.abort();
      controller = new AbortController();
    }
    const { signal } = controller;
    main.dataset.state = 'loading';
    for (const button of areaExports) button.disabled = !controls.area.value;
    exportHint.hidden = Boolean(controls.area.value);
    count.textContent = t('map.loading');
    try {
      const [obs, items, areas, hotspots, lamps, gaps] = await (pending || fetchFeeds(signal));
      if (signal.aborted) return;
      performance.mark('safewalk-map-data');
      if (controls.area.options.length === 1) {
        const chosen = params.get('area') || '';
        for (const f of [...areas.features].sort((a, b) => a.properties.name.localeCompare(b.properties.name))) {
          controls.area.append(option(f.id, f.properties.name, f.id === chosen));
        }
      }
      // Move the camera first, so each source is tiled once, at the zoom it is shown at.
      if (!fitted) {
        fit(map, [areas, items, obs]);
        fitted = true;
      }
      // Only what the layer and its popup use: less to copy to the worker and to tile there.
      map.getSource('observations').setData({ type: 'FeatureCollection', features: obs.features.map((f) => ({
        type: 'Feature', id: f.id, geometry: f.geometry, properties: { category: f.properties.category, note: f.properties.note },
      })) });
      map.getSource('items').setData(items);
      map.getSource('areas').setData(areas);
      map.getSource('hotspots').setData(hotspots);
      map.getSource('lamps').setData(lamps);
      map.getSource('dark-gaps').setData(gaps);
      method.textContent = hotspots.method ? t('map.method_line', { method: t('map.method_text') }) : '';
      count.textContent = t('map.count', { observations: obs.features.length, items: items.features.length, cells: hotspots.features.length });
      count.dataset.observations = obs.features.length;
      count.dataset.items = items.features.length;
      performance.mark('safewalk-map-set');
      map.once('idle', () => {
        if (signal.aborted) return;
        main.dataset.state = 'idle';
        performance.mark('safewalk-map-idle');
      });
      map.triggerRepaint();
    } catch (err) {
      if (err.name === 'AbortError') return;
      count.textContent = t('error.load', { detail: err.message });
      main.dataset.state = 'error';
    }
  }

  controller = new AbortController();
  const first = fetchFeeds(controller.signal);
  first.catch(() => {}); // handled in load()
  map = await createMap(mapEl);
  performance.mark('safewalk-map-created');
  map.addSource('areas', { type: 'geojson', data: emptyCollection() });
  map.addSource('hotspots', { type: 'geojson', data: emptyCollection() });
  map.addSource('lamps', { type: 'geojson', data: emptyCollection() });
  map.addSource('dark-gaps', { type: 'geojson', data: emptyCollection() });
  map.addSource('items', { type: 'geojson', data: emptyCollection() });
  // Clustering runs in the worker (supercluster): 10,000 points stay fast.
  map.addSource('observations', { type: 'geojson', data: emptyCollection(), cluster: true, clusterRadius: 40, clusterMaxZoom: 16 });
  map.addLayer({ id: 'areas-fill', type: 'fill', source: 'areas', paint: {
    'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'open_items'], 0], 0, '#f8fafc', 1, '#fde68a', 5, '#f59e0b', 20, '#b91c1c'],
    'fill-opacity': 0.3 } });
  map.addLayer({ id: 'areas-line', type: 'line', source: 'areas', paint: { 'line-color': '#334155', 'line-width': 1.5 } });
  map.addLayer({ id: 'dark-gaps', type: 'line', source: 'dark-gaps', paint: { 'line-color': '#111827', 'line-width': 6, 'line-opacity': 0.8 } });
  map.addLayer({ id: 'lamps', type: 'circle', source: 'lamps', minzoom: 14, paint: {
    'circle-color': '#facc15', 'circle-radius': 3.5, 'circle-stroke-color': '#374151', 'circle-stroke-width': 1 } });
  // Cells stand out over a busy basemap: strong fills with a dark edge for the significant
  // ones, a faint fill and a thin edge for the rest, so the streets still read through them.
  map.addLayer({ id: 'hotspots-fill', type: 'fill', source: 'hotspots', paint: {
    'fill-color': ['match', ['get', 'hotspot_class'], ...Object.entries(HOTSPOT_COLOURS).flat(), '#d4d4d8'],
    'fill-opacity': ['match', ['get', 'hotspot_class'], ['not_significant', 'insufficient_data'], 0.12, 0.7] } });
  map.addLayer({ id: 'hotspots-line', type: 'line', source: 'hotspots', paint: {
    'line-color': ['match', ['get', 'hotspot_class'], ['hot_99', 'hot_95', 'hot_90'], '#7f1d1d', ['cold_99', 'cold_95', 'cold_90'], '#1e3a8a', '#71717a'],
    'line-width': ['match', ['get', 'hotspot_class'], ['not_significant', 'insufficient_data'], 0.75, 2] } });
  map.addLayer({ id: 'obs-clusters', type: 'circle', source: 'observations', filter: ['has', 'point_count'], paint: {
    'circle-color': ['step', ['get', 'point_count'], '#60a5fa', 25, '#2563eb', 250, '#1e3a8a'],
    'circle-radius': ['step', ['get', 'point_count'], 12, 25, 18, 250, 26],
    'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2, 'circle-opacity': 0.85 } });
  map.addLayer({ id: 'items', type: 'circle', source: 'items', paint: {
    'circle-color': statusColourExpression(), 'circle-radius': 8,
    'circle-stroke-color': '#111827', 'circle-stroke-width': 1.5 } });
  // Single observations above the items they belong to, so both stay visible.
  map.addLayer({ id: 'obs-points', type: 'circle', source: 'observations', filter: ['!', ['has', 'point_count']], paint: {
    'circle-color': '#2563eb', 'circle-radius': 5, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } });

  const maplibregl = window.maplibregl;
  map.on('click', 'items', (e) => {
    const p = e.features[0].properties;
    new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(h('div', {},
      h('strong', { text: p.title }), h('br'),
      `${session.categoryLabel(p.category)} · ${t(`status.${p.status}`)}`, h('br'),
      h('a', { href: `#/items/${e.features[0].id}`, text: t('map.open_item') }))).addTo(map);
  });
  map.on('click', 'obs-clusters', async (e) => {
    const f = e.features[0];
    const zoom = await map.getSource('observations').getClusterExpansionZoom(f.properties.cluster_id);
    map.easeTo({ center: f.geometry.coordinates, zoom });
  });
  map.on('click', 'obs-points', (e) => {
    const p = e.features[0].properties;
    new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(h('div', {},
      h('strong', { text: session.categoryLabel(p.category) }), p.note ? h('p', { text: p.note }) : null)).addTo(map);
  });
  for (const id of ['items', 'obs-clusters', 'obs-points']) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  mapEl.dataset.ready = 'true';
  await load(first);
  return () => { controller?.abort(); map.remove(); };
}
