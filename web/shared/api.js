// The one way both web apps talk to the service: /api/v1, the same API every other client
// uses. A request carries the bearer token it is given, the chosen language (problems and
// item titles come back in it) and, for a write, the If-Match of the ETag its read answered;
// a refusal is a problem (RFC 9457) whose message names the fields. Where the token comes
// from is each app's own business: a staff member's lives in the tab, a participant's per walk.
import { lang } from './i18n.js';

export const API = '/api/v1';

/** The message of a problem+json body, with the fields it names (`loc` without "body"). */
export function problemMessage(status, body) {
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  const fields = errors.map((e) => ({
    field: Array.isArray(e.loc) ? e.loc.filter((p) => p !== 'body').join('.') : '',
    msg: String(e.msg ?? ''),
  }));
  return { status, message: String(body?.detail || body?.title || `HTTP ${status}`), fields };
}

export class ApiError extends Error {
  constructor(status, problem) {
    const { message, fields } = problemMessage(status, problem);
    super(message);
    this.status = status;
    this.problem = problem || {};
    this.fields = fields;
  }

  /** Each field the refusal names with its reason ("email: not a valid address"), else the
   * message. */
  get text() {
    const named = this.fields.filter((f) => f.field);
    return named.length ? named.map((f) => `${f.field}: ${f.msg}`).join('; ') : this.message;
  }
}

/** One request; resolves to the Response whatever its status, rejects only when the network
 * failed (offline). */
export function send(url, { method = 'GET', token, json, body, headers = {}, ifMatch, signal } = {}) {
  const all = { Accept: 'application/json, application/problem+json', 'Accept-Language': lang(), ...headers };
  if (token) all.Authorization = `Bearer ${token}`;
  if (ifMatch) all['If-Match'] = ifMatch;
  if (json !== undefined) {
    all['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  // API answers are never taken from the HTTP cache: a stale list or ETag is worse than a wait.
  return fetch(url, { method, headers: all, body, signal, cache: 'no-store' });
}

/** The JSON (or problem+json) body of a response, or null. */
export async function readJson(response) {
  if (!(response.headers.get('content-type') || '').includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** A request whose every answer is data: {status, body, headers, etag}. */
export async function answer(url, options) {
  const response = await send(url, options);
  return {
    status: response.status,
    body: await readJson(response),
    headers: response.headers,
    etag: response.headers.get('etag'),
  };
}

/** A request that must succeed: the Response, or an ApiError carrying the problem. */
export async function expectOk(url, options) {
  const response = await send(url, options);
  if (!response.ok) throw new ApiError(response.status, await readJson(response));
  return response;
}
