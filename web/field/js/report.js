// After the walk: what became of this phone's own observations. The walk's report back is an
// unlisted public page; its JSON form lists each observation's id with its action item, so the
// phone finds its own without telling the server who it is. Walks are remembered here (title
// and the organization's address) because the walk's token expires soon after the walk.
import { t, lang, locale } from './i18n.js';
import { h } from '../../shared/dom.js';

const WALKS = 'safewalk.walks';

function walks() {
  try {
    return JSON.parse(localStorage.getItem(WALKS) || '{}');
  } catch {
    return {};
  }
}

export function rememberedWalk(walkId) {
  return walks()[walkId] || null;
}

/** Keep what the report back needs of a walk (merged with what is known already). */
export function rememberWalk(walkId, fields) {
  const all = walks();
  all[walkId] = { ...all[walkId], ...fields };
  localStorage.setItem(WALKS, JSON.stringify(all));
}

/** Walks this phone reported on and can find the report back of, newest first. */
export function pastWalks(items) {
  const all = walks();
  const seen = new Map();
  for (const it of items) {
    const walk = all[it.walk_id];
    if (walk?.slug && !seen.has(it.walk_id)) seen.set(it.walk_id, { id: it.walk_id, ...walk });
  }
  return [...seen.values()].reverse();
}

export function pageUrl(walkId) {
  const walk = rememberedWalk(walkId);
  if (!walk?.slug) return null;
  return new URL(`/public/${encodeURIComponent(walk.slug)}/walks/${walkId}`, location.origin).href;
}

async function load(walkId) {
  const url = pageUrl(walkId);
  const key = `safewalk.report.${walkId}`;
  try {
    const res = await fetch(`${url}.json?lang=${lang()}`, {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
    });
    if (res.status === 404) {
      localStorage.removeItem(key); // withdrawn, or not published yet
      return { state: 'not_yet' };
    }
    if (!res.ok) return { state: 'failed' };
    const body = await res.json();
    localStorage.setItem(key, JSON.stringify(body));
    return { state: 'ok', body };
  } catch {
    try {
      const body = JSON.parse(localStorage.getItem(key) || 'null');
      if (body) return { state: 'offline', body };
    } catch {
      // nothing kept
    }
    return { state: 'failed' };
  }
}

function date(iso) {
  return new Date(`${iso}T12:00:00`).toLocaleDateString(locale());
}

function outcome(item) {
  const bits = [t(`item_status_${item.status}`)];
  if (item.done && item.done_date) bits.push(t('report_done_on', { date: date(item.done_date) }));
  else if (!item.done && item.due_date) bits.push(t('report_due', { date: date(item.due_date) }));
  return bits.join(' · ');
}

/** Fill the report view for one walk with this phone's observations of it. */
export async function showReport(walkId, mine, { categoryLabel }) {
  const walk = rememberedWalk(walkId) || {};
  const url = pageUrl(walkId);
  document.querySelector('#report-walk').textContent = walk.title || '';
  const link = document.querySelector('#report-link');
  link.hidden = !url;
  if (url) link.href = url;
  const message = document.querySelector('#report-message');
  const list = document.querySelector('#report-list');
  list.replaceChildren();
  if (!url) {
    message.textContent = t('report_failed');
    return;
  }
  message.textContent = t('report_loading');
  const { state, body } = await load(walkId);
  if (state === 'not_yet' || state === 'failed') {
    message.textContent = t(state === 'not_yet' ? 'report_not_yet' : 'report_failed');
    return;
  }
  message.textContent = state === 'offline' ? t('report_offline') : '';
  const items = new Map(body.items.map((i) => [i.id, i]));
  const shown = new Map(body.observations.map((o) => [o.id, o]));
  list.replaceChildren(
    ...mine.map((it) => {
      const o = shown.get(it.id);
      const item = o?.item_id ? items.get(o.item_id) : null;
      const label = o?.category_label || categoryLabel(it.body.category);
      const lines = [];
      if (item) {
        lines.push(h('p', { class: item.done ? 'meta done' : 'meta' }, outcome(item)));
        if (item.resolution_note) lines.push(h('p', { class: 'note' }, item.resolution_note));
        if (item.referred_to) lines.push(h('p', { class: 'note' }, t('report_referred', { to: item.referred_to })));
        if (item.declined_reason) lines.push(h('p', { class: 'note' }, t('report_declined', { reason: item.declined_reason })));
      } else {
        lines.push(h('p', { class: 'meta' }, t(o ? 'report_no_item' : 'report_not_shown')));
      }
      return h('li', { class: 'card' }, h('h3', {}, label), it.body.note ? h('p', { class: 'note' }, it.body.note) : null, ...lines);
    }),
  );
}
