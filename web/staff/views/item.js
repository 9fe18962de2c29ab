// One action item: where it is, what was observed, its history, and one button per move the
// server says this caller may make now (`allowed_moves`). Resolving is one tap (two with a note).
import * as api from '../api.js';
import { announcer, field, formatDate, formatDateTime, h, setTitle, uuid } from '../dom.js';
import { lang, t } from '../i18n.js';
import { createMap, emptyCollection, fit } from '../map.js';
import { session } from '../session.js';
import { statusBadge } from './items.js';

// The order the buttons appear in: the usual next step first.
const MOVE_ORDER = ['resolved', 'in_progress', 'planned', 'triaged', 'verified', 'reopened', 'referred', 'wont_fix', 'duplicate'];
// Events other than a move or a change of fields, said in words (history.<kind>).
const EVENT_KINDS = ['created', 'photo', 'merged', 'split', 'regroup', 'observation_removed', 'follow_up', 'open311_queued', 'open311_sent', 'open311_update'];
// The item fields a person changes (field.<name>); others are the system's bookkeeping.
const FIELDS = ['department', 'due_date', 'assignee_id', 'priority_override', 'title', 'resolution_note', 'owner_type', 'referred_to'];

/** Who did it, in words: the staff member's name, the participant's group, or the system. */
export function actorName(e) {
  if (e.actor_kind === 'user') return e.actor_name;
  if (e.actor_kind === 'participant') return t(`group.${e.actor_name}`);
  return t(e.actor_kind === 'case_system' ? 'history.case_system' : 'history.system');
}

/** What happened, in words. */
export function eventText(e) {
  if (e.kind === 'created') return t('history.created');
  if (e.to_status) return `${e.from_status ? t(`status.${e.from_status}`) : '–'} → ${t(`status.${e.to_status}`)}`;
  const changed = Object.keys(e.changes || {}).filter((f) => FIELDS.includes(f));
  if (e.kind === 'update' && changed.length) {
    return t('item.changed', { fields: changed.map((f) => {
      const [from, to] = e.changes[f];
      return f === 'department' ? `${t('field.department')} (${session.departmentLabel(from) || '–'} → ${session.departmentLabel(to) || '–'})` : t(`field.${f}`);
    }).join(', ') });
  }
  return EVENT_KINDS.includes(e.kind) ? t(`history.${e.kind}`) : '';
}

/** The spot as people pass it on: coordinates, a geo: link for the phone's map app, and a
 * web map. */
export function placeLinks([lon, lat]) {
  const la = lat.toFixed(6), lo = lon.toFixed(6);
  return [
    h('span', { class: 'coords', text: `${la}, ${lo}` }), ' ',
    h('a', { href: `geo:${la},${lo}`, text: t('item.open_geo') }), ' · ',
    h('a', { href: `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=18/${la}/${lo}`, target: '_blank', rel: 'noopener', text: t('item.open_web_map') }),
  ];
}

async function loadItem(id) {
  const res = await api.raw('GET', `/api/v1/action-items/${id}`);
  return { item: await res.json(), etag: res.headers.get('etag') };
}

// Photos come with short-lived signed links that an <img> can load without the token.
function thumb(photo, alt) {
  return h('a', { href: photo.urls.display, target: '_blank', rel: 'noopener' },
    h('img', { src: photo.urls.thumb, alt, class: 'thumb', loading: 'lazy' }));
}

export async function itemView(main, { args: [id], me }) {
  let { item, etag } = await loadItem(id);
  // The lamp's earlier items and how they were fixed.
  let lampHistory = [];
  if (item.asset) {
    try {
      const asset = await api.get(`/api/v1/assets/${item.asset.id}`);
      lampHistory = asset.items.filter((i) => i.id !== item.id);
    } catch {
      lampHistory = [];
    }
  }
  let map = null;
  const announce = announcer();
  const heading = h('h1');
  const facts = h('dl', { class: 'facts' });
  const moves = h('div', { class: 'moves buttons' });
  const note = h('textarea', { name: 'resolution_note', rows: 3 });
  // The photo's id is made when the file is chosen: sending it again after a failed attempt
  // (a refused move, a lost answer) stores it once.
  let photoId = null;
  const photo = h('input', { type: 'file', name: 'fix_photo', accept: 'image/*', capture: 'environment', onchange: () => { photoId = uuid(); } });
  const history = h('ol', { class: 'history' });
  const observations = h('ul', { class: 'observations' });
  const comment = h('textarea', { name: 'comment', rows: 2 });
  const canWork = ['admin', 'coordinator', 'engineer'].includes(me.role);
  const noMoves = h('p', { class: 'hint', text: t('item.no_moves') });
  const workControls = h('div', {},
    field(t('item.note'), note, t('item.note_hint')),
    field(t('item.fix_photo'), photo),
    moves);

  function renderItem() {
    setTitle(item.title);
    heading.textContent = item.title;
    const row = (k, v) => [h('dt', { text: t(k) }), h('dd', {}, v)];
    facts.replaceChildren(
      ...row('item.status', statusBadge(item.status)),
      ...row('item.category', session.categoryLabel(item.category)),
      ...row('item.priority', String(Math.round(item.priority))),
      ...row('item.due', item.due_date ? [formatDate(item.due_date, lang()), item.overdue ? h('span', { class: 'badge overdue', text: t('items.overdue') }) : null] : '–'),
      ...row('item.department', session.departmentLabel(item.department) || '–'),
      ...row('item.place', placeLinks(item.location.coordinates)),
      ...row('item.reports', String(item.observation_count)),
      ...(item.asset ? row('item.lamp', [item.asset.external_id, item.recurring ? h('span', { class: 'badge overdue', text: t('item.recurring') }) : null]) : []),
      ...(item.asset ? row('item.lamp_owner', item.asset.owner_name || t(`owner.${item.asset.owner}`)) : []),
      ...(item.referred_to ? row('item.referred_to', item.referred_to) : []),
      ...(item.estimated_lux != null ? row('item.estimated_lux', [t('item.lux', { lux: item.estimated_lux }), item.below_target ? h('span', { class: 'badge overdue', text: t('item.below_target') }) : null]) : []),
      ...(lampHistory.length ? row('item.lamp_history', h('ul', {}, lampHistory.map((i) => h('li', {},
        h('a', { href: `#/items/${i.id}`, text: `${formatDate(i.created_at, lang())} – ${t(`status.${i.status}`)}` }),
        i.resolution_note ? ` (${i.resolution_note})` : '')))) : []),
      ...row('item.last_seen', formatDateTime(item.last_seen_at, lang()) || '–'),
      ...(item.resolution_note ? row('item.resolution_note', item.resolution_note) : []),
      ...(item.photos?.length ? row('item.fix_photos', h('div', { class: 'thumbs' }, item.photos.map((ph) => thumb(ph, t('item.fix_photo_alt'))))) : []),
    );
    const allowed = item.allowed_moves || [];
    moves.replaceChildren(...MOVE_ORDER.filter((m) => allowed.includes(m)).map((m) =>
      h('button', { type: 'button', class: m === 'resolved' ? 'primary' : 'secondary', text: t(`move.${m}`), onclick: () => move(m) })));
    // Nothing to do now (e.g. resolved, waiting for verification): no form to fill in.
    workControls.hidden = !allowed.length;
    noMoves.hidden = allowed.length > 0;
  }

  // First the photo, then the move with the ETag read before it: the photo does not change the
  // item's version, and it counts as the fix only once the item is resolved, so a refused move
  // leaves no "fix" behind and a move never happens without the photo the engineer chose.
  async function uploadFixPhoto() {
    const file = photo.files[0];
    if (!file) return;
    photoId ??= uuid();
    await api.raw('PUT', `/api/v1/action-items/${item.id}/photos/${photoId}`, { body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
  }

  async function move(target) {
    const text = note.value.trim();
    const body = { status: target };
    if (target === 'resolved' && text) body.resolution_note = text;
    else if (target === 'referred') body.referred_to = text;
    else if (text) body.comment = text;
    announce.textContent = '';
    for (const b of moves.querySelectorAll('button')) b.disabled = true;
    try {
      if (target === 'resolved') await uploadFixPhoto();
      const res = await api.raw('PATCH', `/api/v1/action-items/${item.id}`, { json: body, ifMatch: etag });
      item = await res.json(); // with allowed_moves of the new state
      etag = res.headers.get('etag');
      note.value = '';
      photo.value = '';
      photoId = null;
      renderItem();
      announce.className = 'notice ok';
      announce.textContent = t('item.moved', { status: t(`status.${item.status}`) });
      announce.scrollIntoView({ block: 'nearest' });
      await loadHistory();
    } catch (err) {
      announce.className = 'notice error';
      announce.textContent = err.status === 412 ? t('item.stale') : err.text ?? err.message;
      announce.scrollIntoView({ block: 'nearest' });
      if (err.status === 412) {
        ({ item, etag } = await loadItem(item.id));
        await loadHistory(); // what the other person did
      }
      renderItem();
    }
  }

  async function loadHistory() {
    const events = await api.get(`/api/v1/action-items/${item.id}/history`);
    history.replaceChildren(...events.slice().reverse().map((e) => h('li', {},
      h('time', { datetime: e.created_at, text: formatDateTime(e.created_at, lang()) }), ' ',
      h('span', { class: 'actor', text: actorName(e) }), ' ',
      h('span', { text: eventText(e) }),
      e.comment ? h('p', { class: 'comment', text: e.comment }) : null)));
  }

  async function loadObservations() {
    try {
      const data = await api.get(`/api/v1/action-items/${item.id}/observations`);
      const rows = Array.isArray(data) ? data : data.items || data.features || [];
      members = rows.map((o) => o.properties || o).filter((p) => p.location);
      showMembers();
      observations.replaceChildren(...rows.map((o) => {
        const p = o.properties || o;
        const imgs = (p.photos || []).map((ph) => thumb(ph, t('item.photo_alt')));
        return h('li', {},
          h('strong', { text: session.categoryLabel(p.category) }), ' ',
          h('time', { datetime: p.recorded_at, text: formatDateTime(p.recorded_at, lang()) }),
          p.participant_group ? ` · ${t(`group.${p.participant_group}`)}` : null,
          p.note ? h('p', { text: p.note }) : null,
          h('div', { class: 'thumbs' }, imgs));
      }));
      if (!rows.length) observations.append(h('li', { text: t('item.no_observations') }));
    } catch {
      observations.replaceChildren(h('li', { text: t('item.observations_unavailable') }));
    }
  }

  // The item's reports as dots around its spot, once both the map and the list are here.
  let members = [];
  const memberCollection = () => ({ type: 'FeatureCollection', features: members.map((p) => ({ type: 'Feature', geometry: p.location, properties: {} })) });
  function showMembers() {
    const source = map?.getSource('members');
    if (!source) return;
    source.setData(memberCollection());
    mapEl.dataset.members = String(members.length); // what the map draws, for tests and tools
    fit(map, [memberCollection(), { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: item.location }] }], 18);
  }
  const mapEl = h('div', { class: 'map small', role: 'region', 'aria-label': t('item.map') });
  main.append(
    h('p', {}, h('a', { href: me.role === 'planner' ? '#/map' : '#/items', text: t('item.back') })),
    heading,
    announce,
    h('div', { class: 'item-grid' },
      h('section', { 'aria-labelledby': 'work-h', class: 'work' },
        h('h2', { id: 'work-h', text: t('item.work') }),
        facts,
        canWork ? [workControls, noMoves] : null),
      mapEl),
    h('section', { 'aria-labelledby': 'obs-h' }, h('h2', { id: 'obs-h', text: t('item.observations') }), observations),
    h('section', { 'aria-labelledby': 'hist-h' },
      h('h2', { id: 'hist-h', text: t('item.history') }),
      canWork ? h('form', { class: 'comment-form', onsubmit: async (e) => {
        e.preventDefault();
        if (!comment.value.trim()) return;
        try {
          await api.post(`/api/v1/action-items/${item.id}/comments`, { text: comment.value.trim() });
          comment.value = '';
          ({ item, etag } = await loadItem(item.id));
          await loadHistory();
        } catch (err) {
          announce.className = 'notice error';
          announce.textContent = err.message;
        }
      } }, field(t('item.comment'), comment), h('button', { type: 'submit', class: 'secondary', text: t('item.add_comment') })) : null,
      history));
  renderItem();
  await Promise.all([loadHistory(), loadObservations()]);
  createMap(mapEl, { center: item.location.coordinates, zoom: 16 }).then((m) => {
    map = m;
    const fc = { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: item.location, properties: {} }] };
    if (item.footprint) fc.features.push({ type: 'Feature', geometry: item.footprint, properties: {} });
    m.addSource('item', { type: 'geojson', data: fc });
    m.addLayer({ id: 'item-area', type: 'fill', source: 'item', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#f59e0b', 'fill-opacity': 0.3 } });
    m.addLayer({ id: 'item-point', type: 'circle', source: 'item', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#c2410c', 'circle-radius': 9, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    m.addSource('members', { type: 'geojson', data: emptyCollection() });
    m.addLayer({ id: 'item-members', type: 'circle', source: 'members', paint: { 'circle-color': '#1d4ed8', 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
    if (item.footprint) fit(m, fc, 18);
    showMembers();
    mapEl.dataset.ready = 'true';
  }).catch(() => {});
  return () => map?.remove();
}
