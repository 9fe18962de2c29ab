// The review queue: why each observation waits, what it shows (photo, a small map, its walk),
// and accept, hide or mark duplicate, the original picked from the observations nearby.
import * as api from '../api.js';
import { setParams } from '../nav.js';
import { announcer, field, formatDateTime, h, option, setTitle } from '../dom.js';
import { lang, t } from '../i18n.js';
import { boxAround, createMap, emptyCollection, fit, metresBetween } from '../map.js';
import { session } from '../session.js';

const STATES = ['submitted', 'accepted', 'duplicate', 'not_actionable', 'hidden'];
// How far to look for the observation this one repeats.
const NEARBY_M = 150;
// A reason the service gave comes with a code, shown in the reader's language; a
// coordinator's own words have none and are shown as written.
function moderationReason(o) {
  return o.moderation_reason_code ? t(`review.held.${o.moderation_reason_code}`) : o.moderation_reason;
}

export async function reviewView(main, { params }) {
  setTitle(t('review.title'));
  const state = h('select', { name: 'moderation' }, STATES.map((s) => option(s, t(`moderation.${s}`))));
  state.value = params.get('moderation') || 'submitted';
  const announce = announcer();
  const list = h('ul', { class: 'review-list' });
  const walks = new Map((await api.all('/api/v1/walks?limit=200', 2000).catch(() => [])).map((w) => [w.id, w.title]));
  let open = null; // the one card whose map is shown: { map, close }

  async function decide(o, moderation, reason, duplicateOf) {
    const body = { moderation };
    if (reason) body.reason = reason;
    if (duplicateOf) body.duplicate_of = duplicateOf;
    try {
      await api.patch(`/api/v1/observations/${o.id}`, body);
      announce.className = 'notice ok';
      await refresh();
      // Said where the eye goes: the decided card is gone from the list, so the answer sits
      // above it, scrolled to.
      announce.textContent = t('review.done', { state: t(`moderation.${moderation}`) });
      announce.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      announce.className = 'notice error';
      announce.textContent = err.text ?? err.message;
      announce.scrollIntoView({ block: 'nearest' });
    }
  }

  // The observations of the same category nearby, nearest first, as choices on a list and
  // dots on a map; a click on a dot chooses it too.
  async function showNearby(o, panel, chosen) {
    open?.close();
    const box = boxAround(o.location.coordinates, NEARBY_M);
    const page = await api.get(`/api/v1/observations${api.query({ category: o.category, bbox: box.flat().join(','), limit: 50 })}`);
    const near = page.items
      .filter((x) => x.id !== o.id && x.location && ['accepted', 'submitted'].includes(x.moderation))
      .map((x) => ({ ...x, metres: metresBetween(o.location.coordinates, x.location.coordinates) }))
      .sort((a, b) => a.metres - b.metres);
    const mapEl = h('div', { class: 'map small', role: 'region', 'aria-label': t('review.map') });
    const group = h('fieldset', { class: 'nearby' }, h('legend', { text: t('review.nearby') }));
    const radios = near.map((x) => {
      const radio = h('input', { type: 'radio', name: `dup-${o.id}`, value: x.id, onchange: () => { chosen.value = x.id; highlight(); } });
      group.append(h('label', { class: 'check' }, radio,
        `${t('review.metres', { metres: Math.round(x.metres) })} · ${formatDateTime(x.recorded_at, lang())}${x.note ? ` · ${x.note}` : ''}`));
      return radio;
    });
    if (!near.length) group.append(h('p', { class: 'hint', text: t('review.nearby_none') }));
    panel.replaceChildren(group, mapEl, h('p', { class: 'hint', text: t('review.map_key') }));
    chosen.value = '';
    let map = null;
    const features = () => ({ type: 'FeatureCollection', features: [
      { type: 'Feature', geometry: o.location, properties: { role: 'this' } },
      ...near.map((x) => ({ type: 'Feature', id: x.id, geometry: x.location, properties: { role: x.id === chosen.value ? 'chosen' : 'near', id: x.id } })),
    ] });
    function highlight() { map?.getSource('review')?.setData(features()); }
    const state = { map: null, close: () => { map?.remove(); panel.replaceChildren(); open = null; } };
    open = state;
    map = await createMap(mapEl, { center: o.location.coordinates, zoom: 17 });
    if (open !== state) { map.remove(); return; }
    map.addSource('review', { type: 'geojson', data: features() });
    map.addLayer({ id: 'review-dots', type: 'circle', source: 'review', paint: {
      'circle-color': ['match', ['get', 'role'], 'this', '#c2410c', 'chosen', '#15803d', '#1d4ed8'],
      'circle-radius': ['match', ['get', 'role'], 'near', 6, 9],
      'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    map.on('click', 'review-dots', (e) => {
      const id = e.features[0]?.properties?.id;
      const radio = radios.find((r) => r.value === id);
      if (radio) { radio.checked = true; chosen.value = id; highlight(); }
    });
    fit(map, features(), 17);
    mapEl.dataset.ready = 'true';
  }

  function card(o) {
    const reason = h('input', { type: 'text', name: 'reason', maxLength: 500 });
    const chosen = { value: '' };
    const label = session.categoryLabel(o.category);
    const panel = h('div', { class: 'nearby-panel' });
    const walk = o.walk_id ? walks.get(o.walk_id) : null;
    const why = o.moderation_reason || o.moderation_reason_code
      ? h('p', { class: o.moderation === 'submitted' ? 'notice warning' : 'hint',
        text: `${t(o.moderation === 'submitted' ? 'review.held_because' : 'review.reason_given')}: ${moderationReason(o)}` })
      : null;
    const photos = (o.photos || []).map((ph) => h('a', { href: ph.urls.display, target: '_blank', rel: 'noopener' },
      h('img', { src: ph.urls.thumb, alt: t('review.photo_alt', { category: label }), class: 'thumb', loading: 'lazy' })));
    return h('li', { class: 'card' },
      h('h2', { text: label }),
      h('p', {}, h('time', { datetime: o.recorded_at, text: formatDateTime(o.recorded_at, lang()) }),
        walk ? ` · ${t('review.walk', { title: walk })}` : '',
        o.severity != null ? ` · ${t('review.severity')} ${o.severity}` : ''),
      why,
      o.note ? h('p', { class: 'note', text: o.note }) : null,
      photos.length ? h('div', { class: 'thumbs' }, photos) : null,
      field(t('review.reason'), reason),
      o.location ? h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', text: t('review.find_duplicate'),
        'aria-label': `${t('review.find_duplicate')}: ${label}`,
        onclick: async (e) => {
          const btn = e.currentTarget;
          if (btn.getAttribute('aria-expanded') === 'true') { open?.close(); btn.setAttribute('aria-expanded', 'false'); return; }
          for (const b of list.querySelectorAll('[aria-expanded=true]')) b.setAttribute('aria-expanded', 'false');
          btn.setAttribute('aria-expanded', 'true');
          await showNearby(o, panel, chosen);
        } }) : null,
      panel,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', text: t('review.accept'), 'aria-label': `${t('review.accept')}: ${label}`, onclick: () => decide(o, 'accepted', reason.value.trim()) }),
        h('button', { type: 'button', class: 'secondary', text: t('review.hide'), 'aria-label': `${t('review.hide')}: ${label}`, onclick: () => decide(o, 'hidden', reason.value.trim()) }),
        h('button', { type: 'button', class: 'secondary', text: t('review.duplicate'), 'aria-label': `${t('review.duplicate')}: ${label}`, onclick: () => {
          if (!chosen.value) {
            announce.className = 'notice error';
            announce.textContent = t('review.pick_first');
            announce.scrollIntoView({ block: 'nearest' });
            return;
          }
          decide(o, 'duplicate', reason.value.trim(), chosen.value);
        } })));
  }

  async function refresh() {
    open?.close();
    setParams(new URLSearchParams({ moderation: state.value }));
    const page = await api.get(`/api/v1/observations${api.query({ moderation: state.value, limit: 100 })}`);
    list.replaceChildren(...page.items.map(card));
    if (!page.items.length) list.append(h('li', { text: t('review.empty') }));
  }
  state.addEventListener('change', refresh);
  main.append(h('h1', { text: t('review.title') }), field(t('review.show'), state), announce, list);
  await refresh();
  return () => open?.close();
}
