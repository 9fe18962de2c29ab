// The staff web's session on the shared client (web/shared/api.js): the token lives in
// sessionStorage (this tab only, gone when the tab closes), never in localStorage, and a
// refusal is thrown as an ApiError, so a view reads like the happy path.

import { ApiError, expectOk, send } from '../shared/api.js';

export { ApiError };

const TOKEN_KEY = 'safewalk.staff.token';
let expiredHandler = () => {};
let expiryTimer = null;

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function onExpired(handler) {
  expiredHandler = handler;
}

function tokenExpiry(tok) {
  try {
    const payload = JSON.parse(atob(tok.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

function watchExpiry() {
  clearTimeout(expiryTimer);
  const tok = token();
  const exp = tok && tokenExpiry(tok);
  if (!exp) return;
  // setTimeout overflows past ~24.8 days; tokens live hours.
  const wait = Math.min(exp - Date.now(), 2 ** 31 - 1);
  if (wait <= 0) {
    expire();
  } else {
    expiryTimer = setTimeout(expire, wait);
  }
}

function expire() {
  if (!token()) return;
  signOut();
  expiredHandler();
}

export async function signIn(email, password) {
  const body = new URLSearchParams({ username: email, password, grant_type: 'password' });
  const data = await (await expectOk('/api/v1/auth/token', { method: 'POST', body })).json();
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  watchExpiry();
  return data;
}

export function signOut() {
  clearTimeout(expiryTimer);
  sessionStorage.removeItem(TOKEN_KEY);
}

export function resumeSession() {
  watchExpiry();
  return token();
}

// Returns the Response; callers pick json(), blob() or headers. `ifMatch`: the ETag read.
export async function raw(method, path, options = {}) {
  const tok = token();
  const res = await send(path, { ...options, method, token: tok });
  if (res.status === 401 && tok) {
    expire();
    throw new ApiError(401, { detail: 'expired' });
  }
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  return res;
}

export async function request(method, path, options) {
  const res = await raw(method, path, options);
  if (res.status === 204) return null;
  return res.json();
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, json, options) => request('POST', path, { ...options, json });
export const patch = (path, json, options) => request('PATCH', path, { ...options, json });

// Every page of a paged list (`items` + `next`), up to `max` items.
export async function all(path, max = 5000) {
  const items = [];
  let next = path;
  while (next && items.length < max) {
    const page = await get(next);
    items.push(...page.items);
    next = page.next;
  }
  return items;
}

// Every page of a bare JSON array whose next page is in the `Link: <url>; rel="next"` header
// (RFC 8288), up to `max` rows.
export async function allLinked(path, max = 5000) {
  const rows = [];
  let next = path;
  while (next && rows.length < max) {
    const res = await raw('GET', next);
    rows.push(...await res.json());
    next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') || '')?.[1];
  }
  return rows;
}

// Every page of a GeoJSON feed (`links` rel=next), up to `max` features.
export async function features(path, max = 50_000, signal) {
  const out = [];
  let next = path;
  let extra = {};
  while (next && out.length < max) {
    const fc = await request('GET', next, { signal });
    out.push(...fc.features);
    const { features: _f, links = [], ...rest } = fc;
    extra = rest;
    next = links.find((l) => l.rel === 'next')?.href;
  }
  return { ...extra, type: 'FeatureCollection', features: out };
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
