// The offline queue: every observation and photo is stored in IndexedDB the moment it is saved
// and stays there, through reloads and restarts, until the server has it. Sending uses the
// idempotent batch and photo PUT (ids are made on the phone), so a retry never doubles
// anything. A refusal (422, 409) is kept with its message for the user to fix or delete;
// network failures, 5xx and 429 are retried with backoff.
//
// The module knows nothing of the page: the app passes a transport that makes the requests.

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

/** The message of a problem+json body (RFC 9457), with the fields it names. */
export function problemMessage(status, body) {
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  const fields = errors.map((e) => ({
    field: Array.isArray(e.loc) ? e.loc.filter((p) => p !== 'body').join('.') : '',
    msg: String(e.msg ?? ''),
  }));
  return { status, message: String(body?.detail || body?.title || `HTTP ${status}`), fields };
}

const TRANSIENT = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

export class Outbox {
  constructor(db) {
    this.db = db;
    this.listeners = new Set();
    this.flushing = null;
    this.rerun = null;
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

  /** Send what is due. One flush at a time (a call during a flush gets one more pass after it).
   * `transport.batch(walkId, bodies)` and `transport.photo(walkId, obsId, photoId, blob)`
   * resolve to `{status, body}`; a rejected promise is a network failure.
   * Resolves to `{sent, refused, retry, unauthorized, unauthorizedWalks, nextAt}`. */
  flush(transport, { now = Date.now(), force = false } = {}) {
    if (this.flushing) {
      // Called while sending (a save during a slow upload): one more pass after this one, so
      // what was added meanwhile does not wait for the next trigger. Callers share that pass.
      this.rerun = this.rerun || this.flushing.then(() => {
        this.rerun = null;
        return this.flush(transport, { now: Date.now(), force });
      });
      return this.rerun;
    }
    this.flushing = this._flush(transport, now, force).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async _flush(transport, now, force) {
    const result = {
      sent: 0, refused: 0, retry: 0, unauthorized: false, unauthorizedWalks: [], nextAt: null,
    };
    const due = (await this.waiting()).filter(
      (it) => it.state === PENDING || it.photos.some((p) => p.state === PENDING),
    );
    const later = (it) => {
      result.nextAt = result.nextAt === null ? it.next_at : Math.min(result.nextAt, it.next_at);
    };
    const ready = [];
    for (const it of due) {
      if (!force && it.next_at > now) later(it);
      else ready.push(it);
    }
    const byWalk = new Map();
    for (const it of ready) {
      if (!byWalk.has(it.walk_id)) byWalk.set(it.walk_id, []);
      byWalk.get(it.walk_id).push(it);
    }
    try {
      for (const [walkId, items] of byWalk) {
        // A walk whose token is refused (expired, say) stops only its own items.
        result.denied = false;
        await this._sendWalk(transport, walkId, items, now, result, later);
        if (result.denied) result.unauthorizedWalks.push(walkId);
      }
    } finally {
      delete result.denied;
      result.unauthorized = result.unauthorizedWalks.length > 0;
      this._changed();
    }
    return result;
  }

  async _sendWalk(transport, walkId, items, now, result, later) {
    const unsent = items.filter((it) => it.state === PENDING);
    for (let i = 0; i < unsent.length; i += BATCH_SIZE) {
      await this._sendBatch(transport, walkId, unsent.slice(i, i + BATCH_SIZE), now, result, later);
      if (result.denied) return;
    }
    for (const it of items) {
      if (it.state !== SENT) continue;
      await this._sendPhotos(transport, walkId, it, now, result, later);
      if (result.denied) return;
    }
  }

  async _retryLater(item, now, result, later) {
    item.attempts += 1;
    item.next_at = now + backoffDelay(item.attempts);
    await this._put(item);
    result.retry += 1;
    later(item);
  }

  async _sendBatch(transport, walkId, items, now, result, later) {
    let response;
    try {
      response = await transport.batch(walkId, items.map((it) => it.body));
    } catch {
      response = { status: 0, body: null };
    }
    const { status, body } = response;
    if (status === 401) {
      result.denied = true;
      return;
    }
    if (status === 200 && Array.isArray(body?.results)) {
      const outcome = new Map(body.results.map((r) => [String(r.id), r]));
      for (const it of items) {
        const r = outcome.get(it.id);
        if (!r) {
          await this._retryLater(it, now, result, later);
        } else if (r.status === 'created' || r.status === 'duplicate') {
          it.state = SENT;
          it.error = null;
          it.sent_at = now;
          await this._put(it);
          result.sent += 1;
        } else {
          it.state = REFUSED;
          it.error = problemMessage(r.status === 'conflict' ? 409 : 422, {
            detail: r.detail || r.errors?.map((e) => e.msg).join('; ') || r.status,
            errors: r.errors,
          });
          await this._put(it);
          result.refused += 1;
        }
      }
      return;
    }
    if (TRANSIENT(status)) {
      for (const it of items) await this._retryLater(it, now, result, later);
      return;
    }
    // The whole batch was refused (one malformed body spoils it): send one by one so only the
    // bad item is held back.
    for (const it of items) {
      await this._sendOne(transport, walkId, it, now, result, later);
      if (result.denied) return;
    }
  }

  async _sendOne(transport, walkId, item, now, result, later) {
    let response;
    try {
      response = await transport.put(walkId, item.body);
    } catch {
      response = { status: 0, body: null };
    }
    const { status, body } = response;
    if (status === 401) {
      result.denied = true;
    } else if (status === 200 || status === 201) {
      item.state = SENT;
      item.sent_at = now;
      await this._put(item);
      result.sent += 1;
    } else if (TRANSIENT(status)) {
      await this._retryLater(item, now, result, later);
    } else {
      item.state = REFUSED;
      item.error = problemMessage(status, body);
      await this._put(item);
      result.refused += 1;
    }
  }

  async _sendPhotos(transport, walkId, item, now, result, later) {
    for (const photo of item.photos) {
      if (photo.state !== PENDING) continue;
      const blob = await this.photoBlob(photo.id);
      let response;
      try {
        response = blob
          ? await transport.photo(walkId, item.id, photo.id, blob)
          : { status: 410, body: { detail: 'the photo is no longer on this phone' } };
      } catch {
        response = { status: 0, body: null };
      }
      const { status, body } = response;
      if (status === 401) {
        result.denied = true;
        return;
      }
      if (status === 200 || status === 201) {
        photo.state = SENT;
        photo.error = null;
        await this._put(item);
        await this._dropBlob(photo.id); // the server has it: free the phone's storage
      } else if (TRANSIENT(status)) {
        await this._retryLater(item, now, result, later);
        return;
      } else {
        photo.state = REFUSED;
        photo.error = problemMessage(status, body);
        await this._put(item);
        result.refused += 1;
      }
    }
  }
}

export function isDelivered(item) {
  return item.state === SENT && item.photos.every((p) => p.state === SENT);
}

/** Runs flushes: at start, when the browser says it is online, after a save, and on a timer
 * with backoff while something is waiting. */
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
    this.onlineHandler = () => this.now({ force: true });
  }

  start() {
    addEventListener('online', this.onlineHandler);
    return this.now();
  }

  stop() {
    removeEventListener('online', this.onlineHandler);
    if (this.timer) this.clearTimer(this.timer);
    this.timer = null;
  }

  async now({ force = false } = {}) {
    if (this.timer) this.clearTimer(this.timer);
    this.timer = null;
    const now = Date.now();
    const result = await this.outbox.flush(this.transport, { now, force });
    this.onResult(result);
    if (result.nextAt !== null) {
      this.timer = this.setTimer(() => this.now(), Math.max(250, result.nextAt - Date.now()));
    }
    return result;
  }
}
