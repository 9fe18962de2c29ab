// A running walk, live: the route and the observations as they arrive (polled every 5 s).
import * as api from '../api.js';
import { announcer, formatDateTime, h, setTitle } from '../dom.js';
import { lang, locale, t, tn } from '../i18n.js';
import { createMap, emptyCollection, fit } from '../map.js';
import { session } from '../session.js';
import { confirmWalkStep } from './walks.js';

const POLL_MS = 5000;

export async function liveView(main, { args: [id] }) {
  const walk = await api.get(`/api/v1/walks/${id}`);
  setTitle(t('live.heading', { title: walk.title }));
  const status = h('p', { role: 'status', class: 'count' });
  const list = h('ol', { class: 'live-list', 'aria-label': t('live.list') });
  const mapEl = h('div', { class: 'map medium', role: 'region', 'aria-label': t('live.map') });
  const announce = announcer();
  const state = h('span', { text: t(`walk.${walk.status}`) });
  // Ending is here too, where the coordinator watches the walk; it asks first.
  const end = h('button', { type: 'button', class: 'secondary', text: t('walks.end'), 'aria-label': t('walks.end_for', { title: walk.title }), hidden: walk.status !== 'active', onclick: async () => {
    if (!(await confirmWalkStep(walk, 'completed'))) return;
    try {
      Object.assign(walk, await api.patch(`/api/v1/walks/${walk.id}`, { status: 'completed' }));
      state.textContent = t(`walk.${walk.status}`);
      end.hidden = true;
      announce.textContent = t('walks.status_changed', { title: walk.title, status: t(`walk.${walk.status}`) });
    } catch (err) {
      announce.textContent = err.text ?? err.message;
    }
  } });
  main.append(
    h('p', {}, h('a', { href: '#/walks', text: t('join.back') })),
    h('h1', { text: t('live.heading', { title: walk.title }) }),
    h('p', {}, state, ' · ', t('walks.col.code'), ' ', h('code', { text: walk.join_code }), ' ', end),
    announce,
    status,
    h('div', { class: 'item-grid' }, h('section', { 'aria-label': t('live.list') }, list), mapEl));

  let timer = null;
  let stopped = false;
  let map = null;
  let fitted = false;
  let seen = new Set();
  let last = null;

  async function poll() {
    try {
      const fc = await api.features(`/api/v1/map/walks/${id}`);
      last = fc;
      const obs = fc.features.filter((f) => f.properties.kind === 'observation');
      obs.sort((a, b) => b.properties.recorded_at.localeCompare(a.properties.recorded_at));
      const fresh = new Set(obs.map((f) => f.id));
      list.replaceChildren(...obs.map((f) => {
        const p = f.properties;
        return h('li', { class: seen.size && !seen.has(f.id) ? 'new' : '' },
          h('strong', { text: session.categoryLabel(p.category) }), ' ',
          h('time', { datetime: p.recorded_at, text: formatDateTime(p.recorded_at, lang()) }),
          p.note ? h('p', { text: p.note }) : null);
      }));
      seen = fresh;
      status.textContent = tn('live.count', obs.length, { time: new Date().toLocaleTimeString(locale()) });
      if (map) {
        map.getSource('walk').setData(fc);
        if (!fitted && fc.features.length) { fit(map, fc); fitted = true; }
      }
    } catch (err) {
      if (err.status === 401) return;
      status.textContent = t('error.load', { detail: err.message });
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  await poll();
  createMap(mapEl).then((m) => {
    if (stopped) { m.remove(); return; }
    map = m;
    m.addSource('walk', { type: 'geojson', data: emptyCollection() });
    m.addLayer({ id: 'route', type: 'line', source: 'walk', filter: ['==', ['get', 'kind'], 'route'], paint: { 'line-color': '#1d4ed8', 'line-width': 4, 'line-opacity': 0.7 } });
    m.addLayer({ id: 'obs', type: 'circle', source: 'walk', filter: ['==', ['get', 'kind'], 'observation'], paint: { 'circle-color': '#c2410c', 'circle-radius': 6, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
    if (last?.features.length) {
      m.getSource('walk').setData(last);
      fit(m, last);
      fitted = true;
    }
    mapEl.dataset.ready = 'true';
  }).catch(() => {});
  return () => { stopped = true; clearTimeout(timer); map?.remove(); };
}
