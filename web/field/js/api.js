// The walk sessions (a token per walk, on this device only: a participant has no account)
// and the requests the field app makes, through the shared client (web/shared/api.js).
import { API, answer, send } from '../../shared/api.js';

const SESSIONS = 'safewalk.sessions';
const CURRENT = 'safewalk.current';

export function normalizeCode(code) {
  return String(code || '').toUpperCase().replace(/[\s_-]/g, '');
}

export function sessions() {
  try {
    return JSON.parse(localStorage.getItem(SESSIONS) || '{}');
  } catch {
    return {};
  }
}

export function currentSession() {
  const walkId = localStorage.getItem(CURRENT);
  const s = walkId ? sessions()[walkId] : null;
  if (!s) return null;
  if (Date.parse(s.expires_at) <= Date.now()) return null;
  return s;
}

/** The session joined with this code on this device, still valid: joining again resumes it. */
export function sessionForCode(code) {
  const wanted = normalizeCode(code);
  return Object.values(sessions()).find(
    (s) => s.code === wanted && Date.parse(s.expires_at) > Date.now(),
  ) || null;
}

export function saveSession(s) {
  const all = sessions();
  // Expired sessions are dropped; the queue keeps their items for the user to see.
  for (const [id, old] of Object.entries(all)) {
    if (Date.parse(old.expires_at) <= Date.now()) delete all[id];
  }
  all[s.walk_id] = s;
  localStorage.setItem(SESSIONS, JSON.stringify(all));
  localStorage.setItem(CURRENT, s.walk_id);
}

export function leave() {
  localStorage.removeItem(CURRENT);
}

function tokenFor(walkId) {
  return sessions()[walkId]?.access_token || null;
}

// Every answer is data here ({status, body}): offline, refused or not, the app decides.
function call(method, path, { token, ...options } = {}) {
  return answer(API + path, { method, token, ...options });
}

export async function join(code, group, displayName) {
  const json = { code: normalizeCode(code), group };
  if (displayName) json.display_name = displayName;
  return call('POST', '/walks/join', { json });
}

/** Who this token is: for a participant, the walk's organization (its public address). */
export async function me(session) {
  return call('GET', '/me', { token: session.access_token });
}

/** The QR code of the walk's report back page (a Blob), or null when this walk's token may
 * not draw it (only coordinators may) or the phone is offline: the link alone is shown then. */
export async function reportBackQr(walkId) {
  const token = tokenFor(walkId);
  if (!token) return null;
  try {
    const res = await send(`${API}/walks/${walkId}/report-back-qr.svg`, {
      token,
      headers: { Accept: 'image/svg+xml' },
    });
    return res.ok ? await res.blob() : null;
  } catch {
    return null;
  }
}

export async function categories(session) {
  return call('GET', '/categories', { token: session.access_token });
}

export async function walkMap(session) {
  return call('GET', `/map/walks/${session.walk_id}`, { token: session.access_token });
}

/** The walk's map feed from the network, kept on the phone; offline, the copy kept last. */
export async function walkMapKept(session) {
  const key = `safewalk.walkmap.${session.walk_id}`;
  try {
    const res = await walkMap(session);
    if (res.status === 200 && res.body?.features) {
      localStorage.setItem(key, JSON.stringify(res.body));
      return res.body;
    }
  } catch {
    // offline: the copy from last time
  }
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

/** The lamps (and other assets) of the walk's area, fetched at join and kept on the phone as
 * [id, kind, number, lon, lat] so "this lamp" works offline; offline, the copy kept last. */
export async function walkAssetsKept(session) {
  const key = `safewalk.assets.${session.walk_id}`;
  try {
    const res = await call('GET', '/map/assets', { token: session.access_token });
    if (res.status === 200 && res.body?.features) {
      const rows = res.body.features.map((f) => [String(f.id), f.properties.kind, f.properties.external_id, ...f.geometry.coordinates]);
      localStorage.setItem(key, JSON.stringify(rows));
      return rows;
    }
  } catch {
    // offline: the copy from last time
  }
  try {
    return JSON.parse(localStorage.getItem(key) || '[]');
  } catch {
    return [];
  }
}

export async function nearbyOpen(session, { lat, lon, category, radius = 50 }) {
  const q = new URLSearchParams({ lat, lon, category, radius });
  return call('GET', `/observations/nearby?${q}`, { token: session.access_token });
}

export async function nearbyResolved(session, { lat, lon, radius = 100 }) {
  const q = new URLSearchParams({ lat, lon, radius_m: radius });
  return call('GET', `/walks/${session.walk_id}/nearby-resolved?${q}`, { token: session.access_token });
}

export async function followUp(session, itemId, outcome) {
  return call('POST', `/action-items/${itemId}/follow-up`, {
    token: session.access_token,
    json: { outcome },
  });
}

export async function editObservation(session, id, fields) {
  return call('PATCH', `/observations/${id}`, { token: session.access_token, json: fields });
}

export async function withdrawObservation(session, id) {
  return call('DELETE', `/observations/${id}`, { token: session.access_token });
}

/** The queue's transport: requests go out with the token of the item's own walk. */
export const transport = {
  batch: (walkId, observations) =>
    call('POST', '/observations/batch', { token: tokenFor(walkId), json: { observations } }),
  put: (walkId, observation) =>
    call('PUT', `/observations/${observation.id}`, { token: tokenFor(walkId), json: observation }),
  photo: (walkId, obsId, photoId, blob) =>
    call('PUT', `/observations/${obsId}/photos/${photoId}`, {
      token: tokenFor(walkId),
      body: blob,
      headers: { 'Content-Type': blob.type || 'application/octet-stream' },
    }),
};
