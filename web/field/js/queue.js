// The offline queue: every observation and photo is stored in IndexedDB the moment it is saved
// and stays there, through reloads and restarts, until the server has it. Sending uses the
// idempotent batch and photo PUT (ids are made on the phone), so a retry never doubles
// anything, and a send cut off on its way (the network dropped, the answer was lost) is simply
// sent again. A refusal (422, 409) is kept with its message for the user to fix or delete;
// network failures, 5xx and 429 are retried with backoff, until the network says it is back
// or the server answers: then everything waiting goes at once.
//
// The module knows nothing of the page: the app passes a transport that makes the requests.
import { problemMessage } from '../../shared/api.js';

export { problemMessage };

const DB_VERSION = 1;
const ITEMS = 'items';
const BLOBS = 'blobs';
export const BATCH_SIZE = 50;
export const BACKOFF_BASE_MS = 2000;
export const BACKOFF_MAX_MS = 5 * 60 * 1000;

export const PENDING = 'pending';
export const REFUSED = 'refused';
export const SENT = 'sent';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

/** Delay before retry number `attempt` (1, 2, ...): doubling from 2 s up to 5 min, with
 * jitter so that many phones coming out of one underpass do not retry in step. */
export function backoffDelay(attempt, random = Math.random) {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() / 2));
}

const TRANSIENT = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

export class Outbox {
  constructor(db) {
    this.db = db;
    this.listeners = new Set();
    this.flushing = null;
    this.rerun = null;
    this.wanted = null;
  }

  static async open(name = 'safewalk-field') {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(ITEMS)) {
        db.createObjectStore(ITEMS, { keyPath: 'id' }).createIndex('by_created', 'created_at');
      }
      if (!db.objectStoreNames.contains(BLOBS)) db.createObjectStore(BLOBS, { keyPath: 'id' });
    };
    return new Outbox(await request(req));
  }

  close() {
    this.db.close();
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  _changed() {
    for (const fn of this.listeners) {
      try {
        fn();
      } catch (err) {
        console.error(err);
      }
    }
  }

  /** Queue an observation (its `id` made on the phone) and its photos [{id, blob}]. */
  async add(observation, photos = []) {
    if (!observation?.id || !observation.walk_id) throw new Error('observation needs id and walk_id');
    const tx = this.db.transaction([ITEMS, BLOBS], 'readwrite');
    tx.objectStore(ITEMS).put({
      id: observation.id,
      walk_id: observation.walk_id,
      body: observation,
      state: PENDING,
      error: null,
      attempts: 0,
      next_at: 0,
      created_at: Date.now(),
      photos: photos.map((p) => ({ id: p.id, state: PENDING, error: null })),
    });
    for (const p of photos) tx.objectStore(BLOBS).put({ id: p.id, blob: p.blob });
    await done(tx);
    this._changed();
  }

  async get(id) {
    return request(this.db.transaction(ITEMS).objectStore(ITEMS).get(id));
  }

  async photoBlob(photoId) {
    const row = await request(this.db.transaction(BLOBS).objectStore(BLOBS).get(photoId));
    return row ? row.blob : null;
  }

  /** Every item, oldest first (sent ones too: they are "my observations"). */
  async all() {
    const rows = await request(
      this.db.transaction(ITEMS).objectStore(ITEMS).index('by_created').getAll(),
    );
    return rows;
  }

  /** Items still on the phone: waiting to be sent, or refused and waiting for the user. */
  async waiting() {
    return (await this.all()).filter((it) => !isDelivered(it));
  }

  async counts() {
    const rows = await this.waiting();
    return {
      waiting: rows.length,
      refused: rows.filter((it) => it.state === REFUSED || it.photos.some((p) => p.state === REFUSED)).length,
    };
  }

  /** Change a queued (not yet sent) observation, e.g. to fix what the server refused. It is
   * then sent again. `removePhotos` drops photos (a refused one, say); `addPhotos` adds some. */
  async update(id, fields, { removePhotos = [], addPhotos = [] } = {}) {
    const tx = this.db.transaction([ITEMS, BLOBS], 'readwrite');
    const store = tx.objectStore(ITEMS);
    const item = await request(store.get(id));
    if (!item) throw new Error(`no queued observation ${id}`);
    if (item.state === SENT && Object.keys(fields).length) {
      throw new Error('already sent: edit it on the server instead');
    }
    item.body = { ...item.body, ...fields, id: item.id, walk_id: item.walk_id };
    if (item.state !== SENT) item.state = PENDING;
    item.error = null;
    item.attempts = 0;
    item.next_at = 0;
    for (const pid of removePhotos) tx.objectStore(BLOBS).delete(pid);
    item.photos = item.photos
      .filter((p) => !removePhotos.includes(p.id))
      .map((p) => (p.state === REFUSED ? { ...p, state: PENDING, error: null } : p))
      .concat(addPhotos.map((p) => ({ id: p.id, state: PENDING, error: null })));
    for (const p of addPhotos) tx.objectStore(BLOBS).put({ id: p.id, blob: p.blob });
    store.put(item);
    await done(tx);
    this._changed();
    return item;
  }

  /** Remember a change the server already accepted (the author's edit of a sent item), so
   * "my observations" shows it; nothing is sent again. */
  async amendSent(id, fields) {
    const item = await this.get(id);
    if (!item || item.state !== SENT) throw new Error(`no sent observation ${id}`);
    item.body = { ...item.body, ...fields, id: item.id, walk_id: item.walk_id };
    await this._put(item);
    this._changed();
    return item;
  }

  /** Remove an item and its photos from the phone (a queued one is then never sent). */
  async remove(id) {
    const tx = this.db.transaction([ITEMS, BLOBS], 'readwrite');
    const item = await request(tx.objectStore(ITEMS).get(id));
    if (item) {
      for (const p of item.photos) tx.objectStore(BLOBS).delete(p.id);
      tx.objectStore(ITEMS).delete(id);
    }
    await done(tx);
    this._changed();
  }

  async _put(item) {
    const tx = this.db.transaction(ITEMS, 'readwrite');
    tx.objectStore(ITEMS).put(item);
    await done(tx);
  }

  async _dropBlob(id) {
    const tx = this.db.transaction(BLOBS, 'readwrite');
    tx.objectStore(BLOBS).delete(id);
    await done(tx);
  }

  /** Forget the failures of every waiting item but those in `keep`: they are all due now, and
   * a failure from here on starts the backoff from its first, short step. */
  async _resetBackoff(keep = new Set()) {
    const tx = this.db.transaction(ITEMS, 'readwrite');
    const store = tx.objectStore(ITEMS);
    for (const item of await request(store.getAll())) {
      if (keep.has(item.id) || !hasPending(item) || (!item.attempts && !item.next_at)) continue;
      store.put({ ...item, attempts: 0, next_at: 0 });
    }
    await done(tx);
  }

  /** Send what is due, and go on while the server answers. One drain at a time: a call during
   * one (a save, the network coming back) gets one more pass after it, shared by every such
   * caller, forced or fresh if any of them asked so. `force` sends items whose backoff has not
   * run out; `fresh` forgets the backoff first (the network is back).
   * `transport.batch(walkId, bodies)`, `transport.put(walkId, body)` and
   * `transport.photo(walkId, obsId, photoId, blob)` resolve to `{status, body}`; a rejected
   * promise is a network failure.
   * Resolves to `{sent, refused, retry, unauthorized, unauthorizedWalks, nextAt}`. */
  flush(transport, { now = Date.now(), force = false, fresh = false } = {}) {
    if (this.flushing) {
      this.wanted = {
        force: force || Boolean(this.wanted?.force),
        fresh: fresh || Boolean(this.wanted?.fresh),
      };
      // After the running drain, whether it succeeded or not.
      this.rerun ??= this.flushing.catch(() => {}).then(() => {
        const wanted = this.wanted;
        this.rerun = null;
        this.wanted = null;
        return this.flush(transport, { now: Date.now(), ...wanted });
      });
      return this.rerun;
    }
    this.flushing = this._drain(transport, now, force, fresh).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async _drain(transport, now, force, fresh) {
    const pass = {
      transport, now, tried: new Set(), failed: new Set(), denied: new Set(), answered: false,
      result: { sent: 0, refused: 0, retry: 0, unauthorized: false, unauthorizedWalks: [], nextAt: null },
    };
    try {
      if (fresh) await this._resetBackoff();
      for (;;) {
        const ready = (await this.waiting()).filter((it) => hasPending(it) && !pass.tried.has(it.id) &&
          !pass.denied.has(it.walk_id) && (force || fresh || it.next_at <= now));
        if (!ready.length) break;
        pass.answered = false;
        await this._send(pass, ready);
        if (!pass.answered) break;
        // The server answers: what still waits for its backoff timer goes now, and from a
        // fresh start, since its failures came before this answer. What failed in this drain
        // keeps its own new backoff.
        force = true;
        await this._resetBackoff(pass.failed);
      }
    } finally {
      pass.result.unauthorizedWalks = [...pass.denied];
      pass.result.unauthorized = pass.denied.size > 0;
      this._changed();
    }
    // The next try: the soonest backoff among the items still to send (a refused walk's wait
    // for a new token, not for a timer).
    for (const it of await this.waiting()) {
      if (!hasPending(it) || pass.denied.has(it.walk_id)) continue;
      const at = Math.max(it.next_at, 0);
      pass.result.nextAt = pass.result.nextAt === null ? at : Math.min(pass.result.nextAt, at);
    }
    return pass.result;
  }

  /** One pass over `items`: per walk, the observations in batches, then the photos of those
   * the server has. A walk whose token is refused (expired, say) stops only its own items. */
  async _send(pass, items) {
    const byWalk = new Map();
    for (const it of items) {
      pass.tried.add(it.id);
      if (!byWalk.has(it.walk_id)) byWalk.set(it.walk_id, []);
      byWalk.get(it.walk_id).push(it);
    }
    for (const [walkId, walkItems] of byWalk) {
      const unsent = walkItems.filter((it) => it.state === PENDING);
      for (let i = 0; i < unsent.length && !pass.denied.has(walkId); i += BATCH_SIZE) {
        await this._sendBatch(pass, walkId, unsent.slice(i, i + BATCH_SIZE));
      }
      for (const it of walkItems) {
        if (pass.denied.has(walkId)) break;
        if (it.state === SENT) await this._sendPhotos(pass, walkId, it);
      }
    }
  }

  /** The transport's answer, {status: 0} when the network failed; notes a refused token and
   * whether the server was reached at all. */
  async _ask(pass, walkId, send) {
    let response;
    try {
      response = await send(pass.transport);
    } catch {
      response = { status: 0, body: null };
    }
    if (response.status === 401) pass.denied.add(walkId);
    else if (!TRANSIENT(response.status)) pass.answered = true;
    return response;
  }

  async _sent(pass, item) {
    item.state = SENT;
    item.error = null;
    item.sent_at = pass.now;
    item.attempts = 0; // its own answer ends its backoff
    item.next_at = 0;
    await this._put(item);
    pass.result.sent += 1;
  }

  async _refused(pass, item, error) {
    item.state = REFUSED;
    item.error = error;
    await this._put(item);
    pass.result.refused += 1;
  }

  async _retryLater(pass, item) {
    item.attempts += 1;
    item.next_at = pass.now + backoffDelay(item.attempts);
    await this._put(item);
    pass.failed.add(item.id);
    pass.result.retry += 1;
  }

  async _sendBatch(pass, walkId, items) {
    const { status, body } = await this._ask(pass, walkId, (t) => t.batch(walkId, items.map((it) => it.body)));
    if (status === 401) return;
    if (status === 200 && Array.isArray(body?.results)) {
      const outcome = new Map(body.results.map((r) => [String(r.id), r]));
      for (const it of items) {
        const r = outcome.get(it.id);
        if (!r) {
          await this._retryLater(pass, it);
        } else if (r.status === 'created' || r.status === 'duplicate') {
          await this._sent(pass, it);
        } else {
          await this._refused(pass, it, problemMessage(r.status === 'conflict' ? 409 : 422, {
            detail: r.detail || r.errors?.map((e) => e.msg).join('; ') || r.status,
            errors: r.errors,
          }));
        }
      }
    } else if (TRANSIENT(status)) {
      for (const it of items) await this._retryLater(pass, it);
    } else {
      // The whole batch was refused (one malformed body spoils it): one by one, so only the
      // bad item is held back.
      for (const it of items) {
        if (!pass.denied.has(walkId)) await this._sendOne(pass, walkId, it);
      }
    }
  }

  async _sendOne(pass, walkId, item) {
    const { status, body } = await this._ask(pass, walkId, (t) => t.put(walkId, item.body));
    if (status === 401) return;
    if (status === 200 || status === 201) await this._sent(pass, item);
    else if (TRANSIENT(status)) await this._retryLater(pass, item);
    else await this._refused(pass, item, problemMessage(status, body));
  }

  async _sendPhotos(pass, walkId, item) {
    for (const photo of item.photos) {
      if (photo.state !== PENDING) continue;
      const blob = await this.photoBlob(photo.id);
      const { status, body } = blob
        ? await this._ask(pass, walkId, (t) => t.photo(walkId, item.id, photo.id, blob))
        : { status: 410, body: { detail: 'the photo is no longer on this phone' } };
      if (status === 401) return;
      if (status === 200 || status === 201) {
        photo.state = SENT;
        photo.error = null;
        item.attempts = 0;
        item.next_at = 0;
        await this._put(item);
        await this._dropBlob(photo.id); // the server has it: free the phone's storage
      } else if (TRANSIENT(status)) {
        await this._retryLater(pass, item); // the rest of its photos wait with it
        return;
      } else {
        photo.state = REFUSED;
        photo.error = problemMessage(status, body);
        await this._put(item);
        pass.result.refused += 1;
      }
    }
  }
}

export function isDelivered(item) {
  return item.state === SENT && item.photos.every((p) => p.state === SENT);
}

/** Something of the item is to send now: the observation, or a photo of one the server has
 * (a refused observation's photos wait for the fix). */
function hasPending(item) {
  return item.state === PENDING || (item.state === SENT && item.photos.some((p) => p.state === PENDING));
}

/** Runs flushes: at start, after a save, on a timer with backoff while something waits, and
 * when the browser says the network is back: then with the backoff forgotten, so everything
 * waiting goes at once. */
export class SyncLoop {
  constructor(outbox, transport, {
    onResult = () => {},
    // Wrapped: called as a method, the bare timer functions throw "Illegal invocation".
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (id) => clearTimeout(id),
  } = {}) {
    this.outbox = outbox;
    this.transport = transport;
    this.onResult = onResult;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.timer = null;
    this.stopped = false;
    this.onlineHandler = () => this.now({ fresh: true });
  }

  start() {
    this.stopped = false;
    addEventListener('online', this.onlineHandler);
    return this.now();
  }

  stop() {
    this.stopped = true;
    removeEventListener('online', this.onlineHandler);
    this._clearTimer();
  }

  _clearTimer() {
    if (this.timer) this.clearTimer(this.timer);
    this.timer = null;
  }

  /** Flush now (`force`: the items in backoff too; `fresh`: forget the backoff first). */
  async now({ force = false, fresh = false } = {}) {
    this._clearTimer();
    const result = await this.outbox.flush(this.transport, { now: Date.now(), force, fresh });
    this.onResult(result);
    // Overlapping calls (a timer, a save, the network back) each end here, the latest last:
    // its timer replaces an earlier one instead of running beside it.
    this._clearTimer();
    if (result.nextAt !== null && !this.stopped) {
      this.timer = this.setTimer(() => {
        this.timer = null;
        this.now();
      }, Math.max(250, result.nextAt - Date.now()));
    }
    return result;
  }
}
