// The field app: join a walk, capture observations in a few taps, keep them in the offline
// queue until the server has them. Views are sections of index.html shown one at a time.
import * as api from './api.js';
import { h, uuid } from '../../shared/dom.js';
import { bounds, cacheBasemap, setOrganization } from '../../shared/map.js';
import { t, tn, translatePage, setLanguage, lang, locale, number, LANGUAGES, NAMES } from './i18n.js';
import { fenceOf } from './nearness.js';
import { Outbox, SyncLoop, SENT, REFUSED, isDelivered } from './queue.js';
import { shrink } from './photo.js';
import { isDark } from './sun.js';
import { icon, $, localIso } from './ui.js';
import { rememberWalk, rememberedWalk, pastWalks, showReport, pageUrl } from './report.js';

// Beyond this the pin is likely on the wrong side of the street: the user is asked to check it.
const POOR_ACCURACY_M = 30;
const NEARBY_RADIUS_M = 50;
const FOLLOWUP_RADIUS_M = 100;
// Lamps offered for "this lamp": the nearest few within this distance of the report's place.
const LAMP_RADIUS_M = 60;
const LAMP_CHOICES = 4;

const state = {
  session: null,
  categories: [],
  position: null, // {lat, lon, accuracy}
  geoError: false,
  draft: null,
  editing: null, // {id, sent: bool}
  view: null,
  outbox: null,
  sync: null,
  expired: false,
  followupAt: null,
  assets: [], // [id, kind, number, lon, lat] of the walk's area, kept at join
  fence: null, // the walk's area and route (nearness.js), from its map feed
  maxDistanceM: null, // how far from them a position may be, from the same feed
};

function newDraft() {
  return { category: null, severity: null, safety: null, photos: [], location: null, asset_id: null };
}

// --- theme -------------------------------------------------------------------------------

function applyTheme() {
  const choice = localStorage.getItem('safewalk.theme') || 'auto';
  let dark = choice === 'dark';
  if (choice === 'auto') {
    const pos = state.position || JSON.parse(localStorage.getItem('safewalk.lastpos') || 'null');
    dark = pos ? isDark(pos.lat, pos.lon) : matchMedia('(prefers-color-scheme: dark)').matches;
  }
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  $('#theme-select').value = choice;
}

// --- views -------------------------------------------------------------------------------

function show(view, { pick = false, focus = null } = {}) {
  state.view = view;
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== `view-${view}`;
  for (const tab of document.querySelectorAll('#tabs button')) {
    if (tab.dataset.view === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  const joined = Boolean(state.session);
  $('#tabs').hidden = !joined;
  $('#leave').hidden = !joined;
  if (view === 'queue') renderQueue();
  if (view === 'mine') renderMine();
  if (view === 'join') renderPastWalks();
  if (view === 'map') openMap({ pick, focus });
}

// --- status ------------------------------------------------------------------------------

async function renderStatus() {
  if (!state.outbox) return;
  const { waiting, refused } = await state.outbox.counts();
  const bar = $('#sync-bar');
  bar.hidden = !state.session && waiting === 0;
  bar.classList.toggle('ok', waiting === 0 && !state.expired);
  let text = waiting === 0 ? t('status_all_sent') : tn('status_waiting', waiting);
  if (refused) text += ` · ${tn('status_refused', refused)}`;
  if (state.expired) text += ` · ${t('status_expired')}`;
  else if (!navigator.onLine && waiting) text += ` · ${t('status_offline')}`;
  $('#status').textContent = text;
  const badge = $('#queue-badge');
  badge.hidden = waiting === 0;
  badge.textContent = String(waiting);
  $('#send-now').hidden = waiting === 0;
  if (state.view === 'queue') renderQueue();
}

// --- join --------------------------------------------------------------------------------

async function onJoin(event) {
  event.preventDefault();
  const code = $('#join-code').value.trim();
  const group = $('#join-group').value;
  const name = $('#join-name').value.trim();
  const error = $('#join-error');
  error.textContent = '';
  if (!code) return fail(error, t('code_required'), '#join-code');
  if (!group) return fail(error, t('group_required'), '#join-group');
  const resumed = api.sessionForCode(code);
  if (resumed) return enter(resumed);
  const button = $('#join-submit');
  button.disabled = true;
  button.textContent = t('joining');
  let res;
  try {
    res = await api.join(code, group, name);
  } catch {
    res = null;
  } finally {
    button.disabled = false;
    button.textContent = t('join');
  }
  if (!res) return fail(error, t('join_offline'));
  if (res.status === 201) {
    const session = { ...res.body, code: api.normalizeCode(code), group };
    api.saveSession(session);
    return enter(session);
  }
  if (res.status === 404) {
    return fail(error, res.body?.reason === 'walk_closed' ? t('join_closed') : t('join_wrong_code'), '#join-code');
  }
  if (res.status === 429) {
    return fail(error, t('join_throttled', { seconds: res.headers.get('Retry-After') || 60 }));
  }
  if (res.status === 422) return fail(error, t('join_invalid', { detail: res.body?.detail || '' }));
  return fail(error, t('join_failed', { status: res.status }));
}

function fail(el, message, focus) {
  el.textContent = message;
  if (focus) $(focus).focus();
}

async function enter(session) {
  state.session = session;
  state.expired = false;
  const url = new URL(location.href);
  if (url.searchParams.has('code')) {
    url.searchParams.delete('code');
    history.replaceState(null, '', url.pathname + url.search);
  }
  $('#walk-title').textContent = session.walk_title || '';
  state.followUpWalk = false;
  // The organization's basemap, known from an earlier visit (else once learnt, below).
  setOrganization(rememberedWalk(session.walk_id)?.slug);
  const learning = learnReportAddress(session);
  loadCategories();
  loadWalk(learning);
  loadAssets();
  startGeolocation();
  show('capture');
  renderStatus();
  state.sync.now({ force: true });
}

// --- the walk ----------------------------------------------------------------------------

/** The walk's map feed: kept for the map view (offline too) and to know if this is a
 * follow-up walk, where resolved items nearby are offered for confirmation. */
async function loadWalk(learning) {
  const session = state.session;
  const doc = await api.walkMapKept(session);
  knowWalk(doc);
  state.followUpWalk = Boolean(doc?.walk?.follow_up_of_id);
  state.followupAt = null;
  checkFollowUp();
  // The basemap of the walk's area, kept for the walk (the map works offline there).
  await learning;
  setOrganization(rememberedWalk(session.walk_id)?.slug);
  const area = bounds(doc);
  if (area) cacheBasemap(area).catch(() => {});
}

/** What the phone checks a position against: the server's own rule, from the walk's feed. */
function knowWalk(doc) {
  if (!doc) return;
  state.fence = fenceOf(doc);
  const max = Number(doc.walk?.max_distance_m);
  state.maxDistanceM = Number.isFinite(max) && max > 0 ? max : null;
}

/** Metres a position is beyond the allowed distance from the walk's area or route: the
 * distance when too far, else null (also when the phone does not know the walk's shape). */
function tooFar(lon, lat) {
  if (!state.fence || state.maxDistanceM === null) return null;
  const d = state.fence.distance(round6(lon), round6(lat));
  return d > state.maxDistanceM ? d : null;
}

// --- lamps ------------------------------------------------------------------------------

async function loadAssets() {
  state.assets = await api.walkAssetsKept(state.session);
  renderLamps();
}

function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.hypot(x, y) * 6371008.8;
}

/** "This lamp": for a category that names an asset kind, the nearest lamps as one-tap buttons;
 * without a choice the server links the nearest one within the category's snap distance. */
function renderLamps() {
  const box = $('#lamps');
  const category = state.categories.find((c) => c.code === state.draft?.category);
  const kind = category?.asset_kind;
  const loc = draftLocation();
  if (!kind || !loc) {
    box.hidden = true;
    return;
  }
  const near = state.assets
    .filter((a) => a[1] === kind)
    .map((a) => ({ id: a[0], number: a[2], m: metresBetween(loc, { lon: a[3], lat: a[4] }) }))
    .filter((a) => a.m <= LAMP_RADIUS_M)
    .sort((a, b) => a.m - b.m)
    .slice(0, LAMP_CHOICES);
  box.hidden = false;
  $('#lamps-intro').textContent = near.length ? t('lamps_intro') : t('lamps_none', { m: LAMP_RADIUS_M });
  $('#lamp-list').replaceChildren(...near.map((a) => h('button', {
    type: 'button',
    class: 'lamp',
    'aria-pressed': String(state.draft.asset_id === a.id),
    onclick: () => {
      state.draft.asset_id = state.draft.asset_id === a.id ? null : a.id;
      renderLamps();
    },
  }, t('this_lamp', { number: a.number, m: Math.round(a.m) }))));
}

// --- categories --------------------------------------------------------------------------

function categoryKey() {
  return `safewalk.categories.${state.session.walk_id}`;
}

function categoryLabel(code) {
  const c = state.categories.find((x) => x.code === code);
  return c ? labelOf(c) : code;
}

// The label in the reader's language; a category an admin has not translated yet shows its
// English label (the staff web lists what is missing).
function labelOf(c) {
  return c.labels?.[lang()] || c.labels?.en || c.label_en;
}

async function loadCategories() {
  try {
    state.categories = JSON.parse(localStorage.getItem(categoryKey()) || '[]');
  } catch {
    state.categories = [];
  }
  renderCategories();
  try {
    const res = await api.categories(state.session);
    if (res.status === 200) {
      const items = [...res.body.items].sort((a, b) => a.sort_order - b.sort_order);
      localStorage.setItem(categoryKey(), JSON.stringify(items));
      state.categories = items;
      renderCategories();
    } else if (res.status === 401) {
      state.expired = true;
      renderStatus();
    }
  } catch {
    // offline: the cached taxonomy (or the service worker's copy) is what we have
  }
}

function renderCategories() {
  const grid = $('#category-grid');
  if (state.categories.length && !performance.getEntriesByName('capture-usable').length) {
    // The moment the capture screen can be used: the benchmark reads this mark.
    requestAnimationFrame(() => performance.mark('capture-usable'));
  }
  grid.replaceChildren(
    ...state.categories.map((c) =>
      h(
        'button',
        {
          type: 'button',
          class: `category${c.code === 'positive_place' ? ' positive' : ''}`,
          'aria-pressed': String(state.draft?.category === c.code),
          dataset: { code: c.code },
          onclick: () => chooseCategory(c.code),
        },
        icon(`cat-${c.code}`),
        h('span', {}, labelOf(c)),
      ),
    ),
  );
}

function chooseCategory(code) {
  state.draft.category = code;
  for (const b of document.querySelectorAll('#category-grid button')) {
    b.setAttribute('aria-pressed', String(b.dataset.code === code));
  }
  tell('');
  if (state.draft.asset_id && !state.categories.find((c) => c.code === code)?.asset_kind) state.draft.asset_id = null;
  renderLamps();
  checkNearby();
}

// --- location ----------------------------------------------------------------------------

function startGeolocation() {
  if (state.watch !== undefined || !('geolocation' in navigator)) {
    renderLocation();
    return;
  }
  state.watch = navigator.geolocation.watchPosition(
    (pos) => {
      state.position = {
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy,
      };
      state.geoError = false;
      localStorage.setItem('safewalk.lastpos', JSON.stringify({ lat: state.position.lat, lon: state.position.lon }));
      renderLocation();
      applyTheme();
      checkFollowUp();
    },
    () => {
      state.geoError = true;
      renderLocation();
    },
    { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 },
  );
  renderLocation();
}

function draftLocation() {
  if (state.draft?.location) return state.draft.location;
  if (state.position) return { ...state.position, manual: false };
  return null;
}

function renderLocation() {
  const loc = draftLocation();
  const row = $('#location-row');
  let text;
  if (loc?.manual) text = t('location_manual');
  else if (loc) {
    const m = Math.round(loc.accuracy);
    text = loc.accuracy > POOR_ACCURACY_M ? t('location_poor', { m }) : t('location_ok', { m });
  } else text = state.geoError ? t('location_denied') : t('location_waiting');
  row.classList.toggle('poor', Boolean(loc && !loc.manual && loc.accuracy > POOR_ACCURACY_M));
  $('#location-text').textContent = text;
  if (state.draft) renderLamps();
}

// --- photos ------------------------------------------------------------------------------

async function onPhotos(event) {
  const files = [...event.target.files];
  event.target.value = '';
  for (const file of files) {
    let blob;
    try {
      blob = await shrink(file);
    } catch {
      tell(t('photo_failed'), { error: true });
      continue;
    }
    state.draft.photos.push({ id: uuid(), blob, url: URL.createObjectURL(blob) });
  }
  renderPhotos();
}

function renderPhotos() {
  $('#photo-list').replaceChildren(
    ...state.draft.photos.map((p, i) =>
      h(
        'li',
        {},
        h('img', { src: p.url, alt: t('photo_alt', { n: i + 1 }), width: 96, height: 96 }),
        h('button', {
          type: 'button',
          class: 'remove',
          'aria-label': t('remove_photo', { n: i + 1 }),
          onclick: () => {
            URL.revokeObjectURL(p.url);
            state.draft.photos.splice(i, 1);
            renderPhotos();
          },
        }, '×'),
      ),
    ),
  );
}

// --- save --------------------------------------------------------------------------------

function formFields() {
  const d = state.draft;
  const fields = { category: d.category };
  const sev = document.querySelector('input[name="severity"]:checked');
  const safe = document.querySelector('input[name="safety"]:checked');
  if (sev) fields.severity = Number(sev.value);
  if (safe) fields.perceived_safety = Number(safe.value);
  const note = $('#note').value.trim();
  if (note) fields.note = note;
  const loc = draftLocation();
  if (loc) {
    fields.location = { type: 'Point', coordinates: [round6(loc.lon), round6(loc.lat)] };
    if (!loc.manual && Number.isFinite(loc.accuracy)) fields.accuracy_m = Math.round(loc.accuracy * 10) / 10;
  }
  if (d.asset_id) fields.asset_id = d.asset_id;
  return fields;
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}

/** The answer to Lagre, in the sticky bar beside it (so it is on screen whatever the scroll)
 * and in a live region: an error (role alert) or a result (aria-live polite), with a button
 * when there is one thing to do about it. An empty text clears it. */
function tell(text, { error = false, action = null } = {}) {
  $('#capture-error').textContent = error ? text : '';
  $('#capture-done').textContent = error ? '' : text;
  const button = $('#capture-action');
  button.hidden = !action;
  button.textContent = action?.label || '';
  button.onclick = action?.run || null;
}

/** Open the map to place the observation: at its own pin when that is near enough to the walk,
 * else over the walk's area (a pin kilometres away would only show empty streets). */
function pickOnMap(loc = draftLocation()) {
  show('map', { pick: true, focus: loc ? { place: { lon: loc.lon, lat: loc.lat } } : 'area' });
}

function kilometres(metres) {
  return number(metres / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

async function onSave(event) {
  event.preventDefault();
  tell('');
  if (!state.draft.category) {
    tell(t('choose_category'), { error: true });
    const grid = $('#category-grid');
    grid.scrollIntoView({ block: 'center' });
    grid.querySelector('button')?.focus({ preventScroll: true });
    return;
  }
  const fields = formFields();
  const photos = state.draft.photos.map(({ id, blob }) => ({ id, blob }));
  // A sent observation's place is not edited here; a new or refused one is checked against the
  // walk as the server will check it, so it is never queued only to be refused.
  const loc = draftLocation();
  const far = loc && !state.editing?.sent ? tooFar(loc.lon, loc.lat) : null;
  if (far !== null) {
    tell(t('location_far', { km: kilometres(far) }), {
      error: true,
      action: { label: t('location_far_pick'), run: () => pickOnMap() },
    });
    return;
  }
  const done = $('#capture-done');
  const error = $('#capture-error');
  if (state.editing?.sent) {
    const { category, severity, perceived_safety: ps, note } = fields;
    const patch = { category, note: note ?? null };
    if (severity) patch.severity = severity;
    if (ps !== undefined) patch.perceived_safety = ps;
    let res;
    try {
      res = await api.editObservation(state.session, state.editing.id, patch);
    } catch {
      res = { status: 0 };
    }
    if (res.status !== 200) {
      tell(t('not_possible', { status: res.status || t('status_offline') }), { error: true });
      return;
    }
    await state.outbox.amendSent(state.editing.id, patch);
    if (photos.length) await state.outbox.update(state.editing.id, {}, { addPhotos: photos });
    done.textContent = t('updated');
  } else if (state.editing) {
    // Refused for its time (a phone whose clock was wrong): the fix is stamped anew.
    if (state.editing.clockRefused) fields.recorded_at = localIso();
    await state.outbox.update(state.editing.id, fields, {
      removePhotos: state.editing.removePhotos || [],
      addPhotos: photos,
    });
    done.textContent = t('updated');
  } else {
    const body = {
      id: uuid(),
      walk_id: state.session.walk_id,
      recorded_at: localIso(),
      ...fields,
    };
    await state.outbox.add(body, photos);
    done.textContent = t('saved');
  }
  error.textContent = '';
  resetForm();
  const result = await state.sync.now({ force: true });
  if (!state.editing && result.sent && done.textContent === t('saved')) done.textContent = t('saved_sent');
}

function resetForm() {
  for (const p of state.draft?.photos || []) URL.revokeObjectURL(p.url);
  state.draft = newDraft();
  state.editing = null;
  $('#capture-form').reset();
  $('#edit-banner').hidden = true;
  $('#edit-banner').textContent = '';
  $('#cancel-edit').hidden = true;
  $('#capture-action').hidden = true;
  $('#nearby').hidden = true;
  renderCategories();
  renderPhotos();
  renderLocation();
}

/** "Endre" and "Rett opp": the observation in the form, which says that it is an edit and
 * opens at its top (the category first). A refusal of its place opens the map instead. */
function loadIntoForm(item, { sent }) {
  resetForm();
  tell('');
  const b = item.body;
  state.editing = {
    id: item.id,
    sent,
    removePhotos: item.photos.filter((p) => p.state === REFUSED).map((p) => p.id),
    clockRefused: Boolean(item.error?.fields?.some((f) => f.field.endsWith('recorded_at'))),
  };
  state.draft.category = b.category;
  if (b.location && !sent) {
    const [lon, lat] = b.location.coordinates;
    state.draft.location = { lon, lat, accuracy: b.accuracy_m ?? 0, manual: b.accuracy_m == null };
  }
  if (b.severity) $(`#sev-${b.severity}`).checked = true;
  if (b.perceived_safety !== undefined && b.perceived_safety !== null) $(`#safe-${b.perceived_safety}`).checked = true;
  $('#note').value = b.note || '';
  const banner = $('#edit-banner');
  const time = new Date(b.recorded_at).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
  banner.textContent = `${t('editing_what', { category: categoryLabel(b.category), time })} ${t('editing')}`;
  banner.hidden = false;
  $('#cancel-edit').hidden = false;
  renderCategories();
  renderLocation();
  const placeRefused = !sent && (item.error?.fields || []).some((f) => /(^|\.)location$/.test(f.field));
  if (placeRefused) {
    const [lon, lat] = b.location?.coordinates || [];
    pickOnMap(b.location ? { lon, lat } : null);
    return;
  }
  show('capture');
  scrollTo({ top: 0 });
  banner.focus({ preventScroll: true });
}

// --- is this already reported? -----------------------------------------------------------

// The server adds a new observation to the nearest open item of its category within the
// category's grouping distance. Asking within that same distance shows exactly the item the
// observation will join, so "add to this report" is simply saving.
async function checkNearby() {
  const box = $('#nearby');
  box.hidden = true;
  const loc = draftLocation();
  const code = state.draft.category;
  if (!loc || !code || !navigator.onLine || state.editing) return;
  const category = state.categories.find((c) => c.code === code);
  if (category && !category.actionable) return; // perception only: never an item
  const radius = Math.min(250, category?.group_distance_m || NEARBY_RADIUS_M);
  let res;
  try {
    res = await api.nearbyOpen(state.session, { lat: loc.lat, lon: loc.lon, category: code, radius });
  } catch {
    return;
  }
  if (res.status !== 200 || state.draft.category !== code) return;
  const item = (Array.isArray(res.body) ? res.body : res.body?.items || [])[0];
  if (!item) return;
  $('#nearby-list').replaceChildren(
    h(
      'li',
      { class: 'card' },
      h('h4', {}, item.title || categoryLabel(item.category)),
      h('p', { class: 'meta' },
        [item.observation_count
          ? tn('nearby_reports', item.observation_count)
          : '',
          Number.isFinite(item.distance_m) ? t('nearby_away', { m: Math.round(item.distance_m) }) : '']
          .filter(Boolean).join(' · ')),
      h('button', { type: 'submit', class: 'primary' }, t('nearby_add')),
    ),
  );
  box.hidden = false;
}

// --- follow-up walks ---------------------------------------------------------------------

async function checkFollowUp() {
  const pos = state.position;
  if (!pos || !navigator.onLine || !state.session || !state.followUpWalk) return;
  const now = Date.now();
  if (state.followupAt && now - state.followupAt < 60000) return;
  state.followupAt = now;
  let res;
  try {
    res = await api.nearbyResolved(state.session, { lat: pos.lat, lon: pos.lon, radius: FOLLOWUP_RADIUS_M });
  } catch {
    return;
  }
  const items = res.status === 200 && Array.isArray(res.body) ? res.body : [];
  const box = $('#followup');
  box.hidden = items.length === 0;
  $('#followup-list').replaceChildren(
    ...items.map((item) => {
      const message = h('p', { class: 'done', 'aria-live': 'polite' });
      const answer = async (outcome, card) => {
        let r;
        try {
          r = await api.followUp(state.session, item.id, outcome);
        } catch {
          r = { status: 0 };
        }
        if (r.status === 200) {
          card.replaceChildren(h('p', { class: 'done' }, t('followup_thanks')));
        } else {
          message.textContent = t('not_possible', { status: r.status || t('status_offline') });
        }
      };
      const card = h('li', { class: 'card' },
        h('h4', {}, item.title || categoryLabel(item.category)),
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'primary', onclick: () => answer('verified', card) }, t('followup_fixed')),
          h('button', { type: 'button', class: 'secondary', onclick: () => answer('reopened', card) }, t('followup_still'))),
        message);
      return card;
    }),
  );
}

// --- the queue and my observations -------------------------------------------------------

function describe(item) {
  const b = item.body;
  const when = new Date(b.recorded_at).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
  const bits = [when];
  if (item.photos.length) bits.push(tn('photos_n', item.photos.length));
  if (!b.location) bits.push(t('no_location'));
  else if (b.accuracy_m > POOR_ACCURACY_M) bits.push(t('poor_accuracy'));
  return bits.join(' · ');
}

/** The server's refusal in words a participant can act on: each field it names, labelled. */
function problemLines(error) {
  if (!error) return [];
  const fields = (error.fields || []).filter((f) => f.field);
  if (!fields.length) return [error.message];
  return fields.map((f) => {
    if (/(^|\.)location$/.test(f.field)) return t('location_refused');
    const name = f.field.split('.').reverse().find((part) => t(`field_${part}`) !== `field_${part}`);
    return name ? `${t(`field_${name}`)}: ${f.msg}` : `${f.field}: ${f.msg}`;
  });
}

async function renderQueue() {
  const items = await state.outbox.waiting();
  $('#queue-empty').hidden = items.length > 0;
  $('#queue-list').replaceChildren(
    ...items.map((item) => {
      const refused = item.state === REFUSED;
      const photoErrors = item.photos.filter((p) => p.state === REFUSED);
      const label = refused || photoErrors.length ? t('refused') : item.attempts ? t('state_retry') : t('state_pending');
      return h('li', { class: `card${refused || photoErrors.length ? ' refused' : ''}`, dataset: { id: item.id } },
        h('h3', {}, categoryLabel(item.body.category)),
        h('p', { class: 'meta' }, `${label} · ${describe(item)}`),
        item.body.note ? h('p', { class: 'note' }, item.body.note) : null,
        ...problemLines(item.error).map((line) => h('p', { class: 'error' }, line)),
        ...photoErrors.map((p) => h('p', { class: 'error' }, `${t('photo_refused')}: ${p.error?.message || ''}`)),
        h('div', { class: 'row' },
          refused
            ? h('button', { type: 'button', class: 'primary', onclick: () => loadIntoForm(item, { sent: false }) }, t('fix'))
            : null,
          // The observation itself arrived; only a photo was refused (not an image, too big):
          // the way out is to drop that photo.
          !refused && photoErrors.length
            ? h('button', {
              type: 'button',
              class: 'primary',
              onclick: () => state.outbox.update(item.id, {}, { removePhotos: photoErrors.map((p) => p.id) }),
            }, t('remove_refused_photo'))
            : null,
          h('button', {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              if (confirm(t('delete_confirm'))) await state.outbox.remove(item.id);
            },
          }, t('delete'))));
    }),
  );
}

async function renderMine() {
  const walkId = state.session?.walk_id;
  const items = (await state.outbox.all()).filter((it) => it.walk_id === walkId).reverse();
  $('#mine-empty').hidden = items.length > 0;
  $('#report-open').hidden = !items.length || !rememberedWalk(walkId)?.slug;
  const message = $('#mine-message');
  $('#mine-list').replaceChildren(
    ...items.map((item) => {
      const delivered = isDelivered(item);
      return h('li', { class: 'card' },
        h('h3', {}, categoryLabel(item.body.category)),
        h('p', { class: 'meta' }, `${delivered ? t('sent') : t('state_pending')} · ${describe(item)}`),
        item.body.note ? h('p', { class: 'note' }, item.body.note) : null,
        item.state === SENT
          ? h('div', { class: 'row' },
            h('button', { type: 'button', class: 'secondary', onclick: () => loadIntoForm(item, { sent: true }) }, t('edit')),
            h('button', {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                if (!confirm(t('withdraw_confirm'))) return;
                let res;
                try {
                  res = await api.withdrawObservation(state.session, item.id);
                } catch {
                  res = { status: 0 };
                }
                if (res.status === 200 || res.status === 204 || res.status === 404) {
                  await state.outbox.remove(item.id);
                  message.textContent = t('withdrawn');
                  renderMine();
                } else {
                  message.textContent = t('not_possible', { status: res.status || t('status_offline') });
                }
              },
            }, t('withdraw')))
          : null);
    }),
  );
}

// --- the report back ---------------------------------------------------------------------

/** While the walk's token works: remember where its report back will be, for after the walk. */
async function learnReportAddress(session) {
  rememberWalk(session.walk_id, { title: session.walk_title || '' });
  if (rememberedWalk(session.walk_id)?.slug) return;
  try {
    const res = await api.me(session);
    const slug = res.status === 200 ? res.body?.organization?.slug : null;
    if (slug) rememberWalk(session.walk_id, { slug });
  } catch {
    // offline: asked again the next time the walk is entered
  }
}

async function openReport(walkId) {
  state.reportWalk = walkId;
  show('report');
  const mine = (await state.outbox.all()).filter((it) => it.walk_id === walkId && isDelivered(it));
  await showReport(walkId, mine, { categoryLabel });
  await showReportQr(walkId);
}

/** The report back's QR code beside its link, drawn by the server only when this walk's token
 * may read it; otherwise the link stands alone. */
async function showReportQr(walkId) {
  const img = $('#report-qr');
  if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
  img.hidden = true;
  img.removeAttribute('src');
  const link = pageUrl(walkId);
  const svg = link ? await api.reportBackQr(walkId) : null;
  if (!svg || state.reportWalk !== walkId) return;
  img.src = URL.createObjectURL(svg);
  img.alt = t('report_qr_alt', { link });
  img.hidden = false;
}

/** On the join screen, after a walk's token expired: the walks this phone reported on. */
async function renderPastWalks() {
  if (!state.outbox) return;
  const walks = pastWalks(await state.outbox.all());
  $('#past-walks').hidden = walks.length === 0;
  $('#past-walks-list').replaceChildren(
    ...walks.map((w) => h('li', { class: 'card' },
      h('h4', {}, w.title || ''),
      h('button', { type: 'button', class: 'secondary', onclick: () => openReport(w.id) }, t('report_open')))),
  );
}

// --- map ---------------------------------------------------------------------------------

async function openMap({ pick = false, focus = null } = {}) {
  const hint = $('#map-hint');
  hint.textContent = pick ? t('map_pick') : t('map_loading');
  $('#use-place').hidden = true;
  state.pickedPlace = null;
  try {
    const { showWalkMap } = await import('./map.js');
    const mine = (await state.outbox.all()).filter((it) => it.walk_id === state.session.walk_id && it.body.location);
    // The walk's shape first (it may not have been known when the position was checked): a
    // place to put right opens at its pin when that is near the walk, else over its area.
    const walk = await api.walkMapKept(state.session);
    knowWalk(walk);
    const place = focus?.place;
    if (place) focus = tooFar(place.lon, place.lat) === null ? place : 'area';
    await showWalkMap($('#map'), {
      walk,
      mine: mine.map((it) => ({ id: it.id, coordinates: it.body.location.coordinates })),
      center: draftLocation(),
      focus,
      lamps: state.assets,
      pick,
      markerLabel: t('map_marker'),
      onPick: (lon, lat) => {
        state.pickedPlace = { lon, lat };
        $('#use-place').hidden = false;
      },
    });
    if (!pick) hint.textContent = '';
  } catch (err) {
    console.error(err);
    hint.textContent = t('map_failed');
  }
}

// --- start -------------------------------------------------------------------------------

function bind() {
  $('#join-form').addEventListener('submit', onJoin);
  $('#capture-form').addEventListener('submit', onSave);
  $('#photo-input').addEventListener('change', onPhotos);
  $('#cancel-edit').addEventListener('click', () => {
    resetForm();
    show('queue');
  });
  $('#send-now').addEventListener('click', async () => {
    const button = $('#send-now');
    button.disabled = true;
    try {
      await state.sync.now({ force: true });
    } finally {
      button.disabled = false;
    }
  });
  $('#place-on-map').addEventListener('click', () => pickOnMap());
  $('#report-open').addEventListener('click', () => openReport(state.session.walk_id));
  $('#report-back').addEventListener('click', () => show(state.session ? 'mine' : 'join'));
  $('#use-place').addEventListener('click', () => {
    if (state.pickedPlace) state.draft.location = { ...state.pickedPlace, accuracy: 0, manual: true };
    renderLocation();
    tell('');
    show('capture');
    // Back where Lagre is: the form's end, with the place now set.
    $('#save').scrollIntoView({ block: 'end' });
    $('#save').focus({ preventScroll: true });
  });
  for (const tab of document.querySelectorAll('#tabs button')) {
    tab.addEventListener('click', () => show(tab.dataset.view));
  }
  $('#lang-select').addEventListener('change', (e) => {
    setLanguage(e.target.value, { remember: true });
    translatePage();
    renderCategories();
    renderPhotos();
    renderLocation();
    renderStatus();
    if (state.view === 'mine') renderMine();
    if (state.view === 'report') openReport(state.reportWalk);
  });
  $('#theme-select').addEventListener('change', (e) => {
    localStorage.setItem('safewalk.theme', e.target.value);
    applyTheme();
  });
  $('#leave').addEventListener('click', () => {
    api.leave();
    state.session = null;
    $('#walk-title').textContent = '';
    show('join');
    renderStatus();
  });
  addEventListener('online', renderStatus);
  addEventListener('offline', renderStatus);
}

/** The severity and safety scales: a radio and its label per step, the label's text
 * `<scale>_<step>` from the catalogue. */
function buildScales() {
  for (const box of document.querySelectorAll('[data-scale]')) {
    const { scale, prefix, steps } = box.dataset;
    for (const step of steps.split(',')) {
      const id = `${prefix}-${step}`;
      box.append(
        h('input', { type: 'radio', name: scale, id, value: step }),
        h('label', { for: id, dataset: { i18n: `${scale}_${step}` } }),
      );
    }
  }
}

function clearOfStickyBar(target) {
  const bar = $('#actions');
  if (!(target instanceof Element) || bar.contains(target) || !bar.checkVisibility()) return;
  const el = target.matches('.segmented input') ? target.nextElementSibling : target;
  const box = el.getBoundingClientRect();
  const top = bar.getBoundingClientRect().top;
  if (box.bottom > top - 8 && box.height < top) scrollBy({ top: box.bottom - top + 16 });
}

async function main() {
  $('#lang-select').replaceChildren(...LANGUAGES.map((l) => h('option', { value: l, lang: l }, NAMES[l])));
  $('#lang-select').value = lang();
  buildScales();
  translatePage();
  applyTheme();
  setInterval(applyTheme, 5 * 60 * 1000);
  state.draft = newDraft();
  bind();
  // The sticky bar's height for scroll-padding (app.css): focus never lands under it.
  new ResizeObserver(([entry]) => {
    document.documentElement.style.setProperty('--actions-h', `${Math.ceil(entry.borderBoxSize[0].blockSize)}px`);
  }).observe($('#actions'));
  // And should the browser's own scroll leave the focused control under the bar anyway (a
  // radio's visible part is its label), one more scroll after it has settled.
  document.addEventListener('focusin', (event) => {
    requestAnimationFrame(() => clearOfStickyBar(event.target));
  });
  if ('serviceWorker' in navigator && isSecureContext) {
    navigator.serviceWorker.register('sw.js', { scope: './' }).catch((err) => console.warn('service worker', err));
  }
  // Ask the browser not to evict the queue under storage pressure (granted silently to
  // installed or often-used apps; a refusal changes nothing).
  navigator.storage?.persist?.().catch(() => {});
  state.outbox = await Outbox.open();
  state.outbox.onChange(renderStatus);
  state.sync = new SyncLoop(state.outbox, api.transport, {
    onResult: (result) => {
      state.expired = Boolean(state.session && result.unauthorizedWalks.includes(state.session.walk_id));
      // A counter of finished syncs: lets a test (or a curious user) see that one has run.
      document.body.dataset.syncs = String(Number(document.body.dataset.syncs || 0) + 1);
      renderStatus();
    },
  });
  const code = new URL(location.href).searchParams.get('code');
  const resumed = code ? api.sessionForCode(code) : api.currentSession();
  if (resumed) {
    if (code) api.saveSession(resumed);
    await enter(resumed);
  } else {
    if (code) $('#join-code').value = api.normalizeCode(code);
    show('join');
    requestAnimationFrame(() => performance.mark('join-usable'));
    renderStatus();
    (code ? $('#join-group') : $('#join-code')).focus();
  }
  state.sync.start();
  document.body.dataset.ready = 'true';
}

main();
