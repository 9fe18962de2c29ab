"""The offline queue module (web/field/js/queue.js) in a real browser: real IndexedDB, a fake
transport. No server and no database: the module is served to the page by Playwright's router.

Checked: enqueue, persistence across reloads, sending with per-item outcomes, retry with
backoff, the fallback from a refused batch to single PUTs, photos, fixing and deleting refused
items, one drain at a time, the loop's triggers (online event, timer), and the way back
online: the online event and every answer end the backoff, so everything waiting goes at once,
and a send cut off on its way is neither lost nor doubled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories.browser import ROOT

ORIGIN = "http://queue.test"
FIELD = ROOT / "web" / "field"
SHARED = ROOT / "web" / "shared"

HARNESS = """<!doctype html><html><head><title>queue tests</title></head><body>
<script type="module">
import * as Q from '/js/queue.js';
window.Q = Q;
// A transport whose answers the test sets: window.answers.batch = (walk, bodies) => ({...}).
window.calls = [];
window.answers = {};
const ok = (status, body) => Promise.resolve({ status, body });
window.transport = {
  batch: async (walk, bodies) => {
    calls.push(['batch', walk, bodies.map((b) => b.id)]);
    if (answers.batch) return answers.batch(walk, bodies);
    return ok(200, { results: bodies.map((b) => ({ id: b.id, status: 'created' })) });
  },
  put: async (walk, body) => {
    calls.push(['put', walk, body.id]);
    if (answers.put) return answers.put(walk, body);
    return ok(201, body);
  },
  photo: async (walk, obsId, photoId, blob) => {
    calls.push(['photo', walk, obsId, photoId, blob.size]);
    if (answers.photo) return answers.photo(walk, obsId, photoId, blob);
    return ok(201, { id: photoId });
  },
};
window.obs = (n, extra = {}) => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  walk_id: 'walk-1', category: 'lighting', recorded_at: '2026-11-03T19:42:10+01:00', ...extra,
});
window.blob = (size) => new Blob([new Uint8Array(size)], { type: 'image/jpeg' });
window.outbox = await Q.Outbox.open('queue-test');
document.body.dataset.ready = 'true';
</script></body></html>"""


def _serve(route: Any) -> None:
    """The field app's modules at /js/ and the shared kit at /shared/, as the server lays them
    out (queue.js imports ../../shared/api.js)."""
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    file = None
    if path.startswith("/js/"):
        file = FIELD / path.lstrip("/")
    elif path.startswith("/shared/"):
        file = SHARED / path.removeprefix("/shared/")
    if path in ("/", "/index.html"):
        route.fulfill(status=200, content_type="text/html", body=HARNESS)
    elif file is not None and file.is_file():
        route.fulfill(
            status=200, content_type="text/javascript", body=file.read_text(encoding="utf-8")
        )
    else:
        route.fulfill(status=404, body="not found")


@pytest.fixture(scope="module")
def harness(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.route(f"{ORIGIN}/**", _serve)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def page(harness: Any) -> Any:
    """The harness with an empty queue database and a fresh module state."""
    if harness.url != f"{ORIGIN}/":  # the first test; every later one finds the harness open
        harness.goto(f"{ORIGIN}/")
    harness.wait_for_selector("body[data-ready=true]", state="attached")
    harness.evaluate(
        """async () => {
            outbox.close();
            await new Promise((done) => {
                const req = indexedDB.deleteDatabase('queue-test');
                req.onsuccess = req.onerror = req.onblocked = done;
            });
        }"""
    )
    harness.reload()
    harness.wait_for_selector("body[data-ready=true]", state="attached")
    return harness


def js(page: Any, body: str) -> Any:
    """Run an async function body in the harness page and return its result."""
    return page.evaluate(f"async () => {{ {body} }}")


def test_items_and_photos_survive_a_reload(page: Any) -> None:
    js(
        page,
        """
        await outbox.add(obs(1), [{ id: 'p-1', blob: blob(1234) }]);
        await outbox.add(obs(2, { note: 'dark underpass' }));
        """,
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    got = js(
        page,
        """
        const items = await outbox.waiting();
        const b = await outbox.photoBlob('p-1');
        return { ids: items.map((i) => i.id), note: items[1].body.note, size: b.size,
                 photos: items[0].photos, counts: await outbox.counts() };
        """,
    )
    assert got["ids"] == [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ]
    assert got["note"] == "dark underpass"
    assert got["size"] == 1234
    assert got["photos"] == [{"id": "p-1", "state": "pending", "error": None}]
    assert got["counts"] == {"waiting": 2, "refused": 0}


def test_flush_sends_observations_then_photos_and_frees_the_blobs(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1), [{ id: 'p-1', blob: blob(10) }, { id: 'p-2', blob: blob(20) }]);
        await outbox.add(obs(2));
        const result = await outbox.flush(transport);
        return { result, calls, counts: await outbox.counts(), blob: await outbox.photoBlob('p-1'),
                 states: (await outbox.all()).map((i) => i.state) };
        """,
    )
    assert [c[0] for c in got["calls"]] == ["batch", "photo", "photo"]
    assert got["calls"][0][2] == [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ]
    assert got["result"]["sent"] == 2
    assert got["result"]["refused"] == 0
    assert got["counts"] == {"waiting": 0, "refused": 0}
    assert got["blob"] is None
    # Sent items stay as "my observations"; a second flush sends nothing again.
    assert got["states"] == ["sent", "sent"]
    again = js(page, "calls.length = 0; await outbox.flush(transport); return calls;")
    assert again == []


def test_per_item_outcomes_keep_refused_items_with_their_message(page: Any) -> None:
    got = js(
        page,
        """
        for (const n of [1, 2, 3, 4]) await outbox.add(obs(n));
        answers.batch = async (walk, bodies) => ({ status: 200, body: { results: [
          { id: bodies[0].id, status: 'created' },
          { id: bodies[1].id, status: 'duplicate' },
          { id: bodies[2].id, status: 'invalid',
            errors: [{ loc: ['body', 'category'], msg: 'unknown category' }] },
          { id: bodies[3].id, status: 'conflict', detail: 'this id was stored with another body' },
        ] } });
        const result = await outbox.flush(transport);
        const waiting = await outbox.waiting();
        return { result, waiting: waiting.map((i) => [i.state, i.error]),
                 counts: await outbox.counts() };
        """,
    )
    assert got["result"]["sent"] == 2
    assert got["result"]["refused"] == 2
    assert got["counts"] == {"waiting": 2, "refused": 2}
    (s1, e1), (s2, e2) = got["waiting"]
    assert s1 == s2 == "refused"
    assert e1["status"] == 422
    assert e1["fields"] == [{"field": "category", "msg": "unknown category"}]
    assert "unknown category" in e1["message"]
    assert e2["status"] == 409
    assert e2["message"] == "this id was stored with another body"


def test_network_failure_retries_later_with_backoff(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1));
        answers.batch = async () => { throw new TypeError('Failed to fetch'); };
        const t0 = 1_000_000;
        const first = await outbox.flush(transport, { now: t0 });
        const item = await outbox.get(obs(1).id);
        // Not yet due: the transport is not even called.
        calls.length = 0;
        const early = await outbox.flush(transport, { now: t0 + 500 });
        const earlyCalls = calls.length;
        // Due: sent as soon as the network is back.
        answers.batch = null;
        const due = await outbox.flush(transport, { now: item.next_at });
        return { first, attempts: item.attempts, delay: item.next_at - t0, early, earlyCalls,
                 due, counts: await outbox.counts() };
        """,
    )
    assert got["first"]["retry"] == 1
    assert got["first"]["sent"] == 0
    assert got["attempts"] == 1
    assert 1000 <= got["delay"] <= 2000
    assert got["early"]["sent"] == 0
    assert got["earlyCalls"] == 0
    assert got["early"]["nextAt"] == 1_000_000 + got["delay"]
    assert got["due"]["sent"] == 1
    assert got["counts"]["waiting"] == 0


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_trouble_is_transient(page: Any, status: int) -> None:
    got = js(
        page,
        f"""
        await outbox.add(obs(1));
        answers.batch = async () => ({{ status: {status}, body: null }});
        const r = await outbox.flush(transport);
        return {{ r, item: await outbox.get(obs(1).id) }};
        """,
    )
    assert got["r"]["retry"] == 1
    assert got["item"]["state"] == "pending"
    assert got["item"]["error"] is None


def test_backoff_doubles_with_jitter_and_is_capped(page: Any) -> None:
    got = js(
        page,
        """
        const low = [1, 2, 3, 4, 5].map((a) => Q.backoffDelay(a, () => 0));
        const high = [1, 2, 3, 4, 5].map((a) => Q.backoffDelay(a, () => 0.999999));
        return { low, high, cap: Q.backoffDelay(40, () => 0.999999), base: Q.BACKOFF_BASE_MS,
                 max: Q.BACKOFF_MAX_MS };
        """,
    )
    assert got["low"] == [1000, 2000, 4000, 8000, 16000]
    assert got["high"] == [2000, 4000, 8000, 16000, 32000]
    assert got["cap"] == got["max"] == 300_000


def test_a_refused_batch_falls_back_to_one_put_each(page: Any) -> None:
    got = js(
        page,
        """
        for (const n of [1, 2, 3]) await outbox.add(obs(n));
        answers.batch = async () => ({ status: 422, body: { detail: 'bad batch' } });
        answers.put = async (walk, body) => body.id === obs(2).id
          ? { status: 422, body: { detail: 'location: outside the organization',
                                   errors: [{ loc: ['body', 'location'], msg: 'outside' }] } }
          : { status: 201, body };
        const r = await outbox.flush(transport);
        return { r, puts: calls.filter((c) => c[0] === 'put').length,
                 waiting: (await outbox.waiting()).map((i) => [i.id, i.error.message]) };
        """,
    )
    assert got["puts"] == 3
    assert got["r"]["sent"] == 2
    assert got["r"]["refused"] == 1
    assert got["waiting"] == [
        ["00000000-0000-4000-8000-000000000002", "location: outside the organization"]
    ]


def test_unauthorized_stops_and_keeps_everything(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1));
        answers.batch = async () => ({ status: 401, body: { detail: 'expired' } });
        const r = await outbox.flush(transport);
        return { r, item: await outbox.get(obs(1).id) };
        """,
    )
    assert got["r"]["unauthorized"] is True
    assert got["item"]["state"] == "pending"
    assert got["item"]["attempts"] == 0


def test_a_refused_photo_is_shown_and_can_be_dropped(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1), [{ id: 'p-ok', blob: blob(10) }, { id: 'p-bad', blob: blob(5) }]);
        answers.photo = async (w, o, pid) => pid === 'p-bad'
          ? { status: 415, body: { detail: 'not a JPEG, PNG, WebP or HEIC image' } }
          : { status: 201, body: {} };
        const r = await outbox.flush(transport);
        const before = await outbox.get(obs(1).id);
        const countsBefore = await outbox.counts();
        await outbox.update(obs(1).id, {}, { removePhotos: ['p-bad'] });
        const countsAfter = await outbox.counts();
        return { r, photos: before.photos, countsBefore, countsAfter,
                 gone: await outbox.photoBlob('p-bad') };
        """,
    )
    assert got["r"]["refused"] == 1
    assert [p["state"] for p in got["photos"]] == ["sent", "refused"]
    assert got["photos"][1]["error"]["message"] == "not a JPEG, PNG, WebP or HEIC image"
    assert got["countsBefore"] == {"waiting": 1, "refused": 1}
    assert got["countsAfter"] == {"waiting": 0, "refused": 0}
    assert got["gone"] is None


def test_fixing_a_refused_item_sends_the_new_body(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1, { category: 'nonsense' }));
        answers.batch = async (w, bodies) => ({ status: 200, body: { results: bodies.map((b) => (
          b.category === 'nonsense'
            ? { id: b.id, status: 'invalid', errors: [{ loc: ['category'], msg: 'unknown' }] }
            : { id: b.id, status: 'created' })) } });
        await outbox.flush(transport);
        const refused = (await outbox.get(obs(1).id)).state;
        await outbox.update(obs(1).id, { category: 'lighting', id: 'must-not-change' });
        const r = await outbox.flush(transport);
        const item = await outbox.get(obs(1).id);
        return { refused, r, body: item.body, state: item.state };
        """,
    )
    assert got["refused"] == "refused"
    assert got["r"]["sent"] == 1
    assert got["state"] == "sent"
    assert got["body"]["category"] == "lighting"
    assert got["body"]["id"] == "00000000-0000-4000-8000-000000000001"


def test_remove_deletes_the_item_and_its_photos(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1), [{ id: 'p-1', blob: blob(10) }]);
        await outbox.remove(obs(1).id);
        await outbox.flush(transport);
        return { all: await outbox.all(), blob: await outbox.photoBlob('p-1'), calls };
        """,
    )
    assert got == {"all": [], "blob": None, "calls": []}


def test_one_drain_at_a_time_and_what_came_meanwhile_goes_in_it(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1));
        let release;
        const gate = new Promise((r) => { release = r; });
        answers.batch = async (w, bodies) => {
          await gate;
          return { status: 200, body: { results: bodies.map((b) => ({ id: b.id, status: 'created' })) } };
        };
        const a = outbox.flush(transport);
        await outbox.add(obs(2));  // saved while the first flush waits for the network
        const b = outbox.flush(transport);
        const c = outbox.flush(transport);
        release();
        const [ra, rb, rc] = await Promise.all([a, b, c]);
        const batches = calls.filter((x) => x[0] === 'batch').map((x) => x[2].length);
        return { shared: rb === rc, first: ra.sent, second: rb.sent, batches,
                 waiting: (await outbox.counts()).waiting };
        """,
    )
    assert got["shared"] is True
    # Never two batches at once; the server answered, so the drain went on to the new item,
    # and the pass the other callers share found nothing left.
    assert got["batches"] == [1, 1]
    assert (got["first"], got["second"]) == (2, 0)
    assert got["waiting"] == 0


def test_an_answer_ends_the_backoff_of_everything_waiting(page: Any) -> None:
    """The last of five waited a minute for its timer after the network came back: the server's
    first answer now sends what waits for a backoff at once, in the same drain."""
    got = js(
        page,
        """
        for (const n of [1, 2, 3, 4]) await outbox.add(obs(n));
        answers.batch = async () => { throw new TypeError('Failed to fetch'); };
        const t0 = Date.now();
        for (let i = 0; i < 6; i += 1) await outbox.flush(transport, { now: t0, force: true });
        const before = (await outbox.all()).map((i) => [i.attempts, i.next_at - t0]);
        await outbox.add(obs(5));  // saved now: due, the others are not
        answers.batch = null;
        calls.length = 0;
        const r = await outbox.flush(transport, { now: t0 });
        return { before, r, batches: calls.map((c) => c[2].length),
                 items: (await outbox.all()).map((i) => [i.state, i.attempts, i.next_at]) };
        """,
    )
    assert all(attempts == 6 and delay >= 32_000 for attempts, delay in got["before"])
    assert got["batches"] == [1, 4]
    assert got["r"]["sent"] == 5
    assert got["r"]["nextAt"] is None
    assert got["items"] == [["sent", 0, 0]] * 5


def test_the_first_failure_after_an_answer_waits_seconds_not_minutes(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1), [{ id: 'p-1', blob: blob(10) }]);
        answers.batch = async () => { throw new TypeError('Failed to fetch'); };
        const t0 = Date.now();
        for (let i = 0; i < 7; i += 1) await outbox.flush(transport, { now: t0, force: true });
        const attempts = (await outbox.get(obs(1).id)).attempts;
        // Back: the observation arrives, its photo's answer is lost.
        answers.batch = null;
        answers.photo = async () => { throw new TypeError('connection reset'); };
        const r = await outbox.flush(transport, { now: t0, force: true });
        const item = await outbox.get(obs(1).id);
        return { attempts, r, state: item.state, after: item.attempts, delay: item.next_at - t0 };
        """,
    )
    assert got["attempts"] == 7
    assert got["state"] == "sent"
    assert got["r"]["retry"] == 1
    assert got["after"] == 1
    assert 1000 <= got["delay"] <= 2000
    assert got["r"]["nextAt"] is not None


def test_a_forced_call_during_a_drain_keeps_its_force(page: Any) -> None:
    """The network comes back while a timer's send is still on its way: the online event's
    pass after it is fresh, even though a plain call (a save) asked for that pass first."""
    got = js(
        page,
        """
        await outbox.add(obs(1));
        answers.batch = async () => { throw new TypeError('offline'); };
        await outbox.flush(transport);  // obs 1 now waits for its backoff
        await outbox.add(obs(2));
        let release, called;
        const gate = new Promise((r) => { release = r; });
        const inFlight = new Promise((r) => { called = r; });
        answers.batch = async () => {
          called();
          await gate;
          throw new TypeError('offline');  // the send on its way fails...
        };
        const timer = outbox.flush(transport);  // a timer's flush: obs 2 only
        await inFlight;
        const save = outbox.flush(transport);
        const online = outbox.flush(transport, { fresh: true });  // ...as the network returns
        answers.batch = null;
        release();
        const first = await timer;
        const [s, r] = await Promise.all([save, online]);
        return { first: first.sent, shared: s === r, r, waiting: (await outbox.counts()).waiting };
        """,
    )
    assert got["first"] == 0
    assert got["shared"] is True
    assert got["r"]["sent"] == 2
    assert got["waiting"] == 0


def test_the_online_event_forgets_the_backoff(page: Any) -> None:
    got = js(
        page,
        """
        for (const n of [1, 2, 3, 4, 5]) await outbox.add(obs(n));
        answers.batch = async () => { throw new TypeError('offline'); };
        const timers = [];
        const loop = new Q.SyncLoop(outbox, transport, {
          setTimer: (fn, ms) => { timers.push(ms); return timers.length; },
          clearTimer: () => {},
        });
        await loop.start();
        for (let i = 0; i < 5; i += 1) await loop.now({ force: true });
        const longest = timers[timers.length - 1];
        const settle = async () => {
          await new Promise((r) => setTimeout(r, 50));
          while (outbox.flushing) await outbox.flushing;
        };
        // Back, but the first try fails (the radio is not quite up): a retry in seconds.
        dispatchEvent(new Event('online'));
        await settle();
        const afterFailure = timers[timers.length - 1];
        answers.batch = null;
        calls.length = 0;
        dispatchEvent(new Event('online'));
        await settle();
        loop.stop();
        return { longest, afterFailure, calls: calls.map((c) => c[2].length),
                 counts: await outbox.counts() };
        """,
    )
    assert got["longest"] > 30_000  # what the last one used to wait for
    assert got["afterFailure"] <= 2000
    assert got["calls"] == [5]
    assert got["counts"]["waiting"] == 0


def test_a_send_cut_off_on_its_way_is_neither_lost_nor_doubled(page: Any) -> None:
    """A server that stores what reaches it; the network drops while batches and photos are on
    their way (stored, never answered), and comes back, several times, with saves in between.
    Everything arrives, each observation and photo stored once, never two sends at once."""
    got = js(
        page,
        """
        const created = new Map();  // what the server stored: id -> times
        const photos = new Map();
        let drop = 4;  // the next answers that never come back
        let inFlight = 0, most = 0;
        const wire = async (fn) => {
          inFlight += 1; most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 5));
          try { return fn(); } finally { inFlight -= 1; }
        };
        const lose = (answer) => { if (drop-- > 0) throw new TypeError('network changed'); return answer; };
        answers.batch = (w, bodies) => wire(() => lose({ status: 200, body: { results: bodies.map((b) => {
          const seen = created.has(b.id);
          if (!seen) created.set(b.id, 1);
          return { id: b.id, status: seen ? 'duplicate' : 'created' };
        }) } }));
        answers.photo = (w, o, pid) => wire(() => {
          const seen = photos.has(pid);
          if (!seen) photos.set(pid, 1);
          return lose({ status: seen ? 200 : 201, body: {} });
        });
        for (const n of [1, 2, 3]) await outbox.add(obs(n), [{ id: `p-${n}`, blob: blob(n) }]);
        const loop = new Q.SyncLoop(outbox, transport, { setTimer: () => 0, clearTimer: () => {} });
        loop.start();
        // The network toggles: each time it comes back, the online event; a save in between.
        for (let round = 0; round < 8; round += 1) {
          dispatchEvent(new Event('online'));
          if (round === 2) { await outbox.add(obs(4)); loop.now({ force: true }); }
          await new Promise((r) => setTimeout(r, 15));
        }
        while (outbox.flushing) await outbox.flushing;
        loop.stop();
        return { created: [...created.keys()].sort(), photos: [...photos.keys()].sort(), most,
                 dropped: drop < 0, counts: await outbox.counts(),
                 states: (await outbox.all()).map((i) => i.state) };
        """,
    )
    assert got["dropped"] is True  # every planned loss happened
    assert got["created"] == [f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 4)]
    assert got["photos"] == ["p-1", "p-2", "p-3"]
    assert got["most"] == 1  # never two sends at once
    assert got["counts"] == {"waiting": 0, "refused": 0}
    assert got["states"] == ["sent"] * 4


def test_items_of_different_walks_go_out_with_their_own_walk(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1));
        await outbox.add(obs(2, { walk_id: 'walk-2' }));
        await outbox.flush(transport);
        return calls.map((c) => [c[0], c[1], c[2]]);
        """,
    )
    assert sorted(got) == [
        ["batch", "walk-1", ["00000000-0000-4000-8000-000000000001"]],
        ["batch", "walk-2", ["00000000-0000-4000-8000-000000000002"]],
    ]


def test_sync_loop_retries_on_a_timer_and_on_the_online_event(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1));
        answers.batch = async () => { throw new TypeError('offline'); };
        const timers = [];
        const results = [];
        const loop = new Q.SyncLoop(outbox, transport, {
          onResult: (r) => results.push(r),
          setTimer: (fn, ms) => { timers.push(ms); return timers.length; },
          clearTimer: () => {},
        });
        await loop.start();
        const scheduled = timers.slice();
        answers.batch = null;
        dispatchEvent(new Event('online'));
        await new Promise((r) => setTimeout(r, 200));
        await outbox.flushing;
        loop.stop();
        return { scheduled, results: results.map((r) => [r.sent, r.retry]),
                 counts: await outbox.counts() };
        """,
    )
    assert len(got["scheduled"]) == 1
    assert 250 <= got["scheduled"][0] <= 2000
    assert got["results"] == [[0, 1], [1, 0]]
    assert got["counts"]["waiting"] == 0


def test_problem_message_names_the_fields(page: Any) -> None:
    got = js(
        page,
        """
        return [
          Q.problemMessage(422, { detail: 'body.note: too long',
                                  errors: [{ loc: ['body', 'note'], msg: 'too long' }] }),
          Q.problemMessage(500, null),
        ];
        """,
    )
    assert got[0] == {
        "status": 422,
        "message": "body.note: too long",
        "fields": [{"field": "note", "msg": "too long"}],
    }
    assert got[1] == {"status": 500, "message": "HTTP 500", "fields": []}


def test_amending_a_sent_item_sends_nothing(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1, { note: 'old' }));
        await outbox.flush(transport);
        calls.length = 0;
        await outbox.amendSent(obs(1).id, { note: 'edited on the server' });
        await outbox.flush(transport);
        let refused = null;
        await outbox.add(obs(2));
        try { await outbox.amendSent(obs(2).id, { note: 'x' }); } catch (e) { refused = e.message; }
        const item = await outbox.get(obs(1).id);
        return { note: item.body.note, state: item.state, calls: calls.filter((c) => c[2][0] === obs(1).id), refused };
        """,
    )
    assert got["note"] == "edited on the server"
    assert got["state"] == "sent"
    assert got["calls"] == []
    assert "no sent observation" in got["refused"]


def test_a_refused_token_stops_only_its_own_walk(page: Any) -> None:
    got = js(
        page,
        """
        await outbox.add(obs(1, { walk_id: 'yesterday' }));
        await outbox.add(obs(2, { walk_id: 'today' }));
        answers.batch = async (walk, bodies) => walk === 'yesterday'
          ? { status: 401, body: { detail: 'expired' } }
          : { status: 200, body: { results: bodies.map((b) => ({ id: b.id, status: 'created' })) } };
        const r = await outbox.flush(transport);
        return { r, states: (await outbox.all()).map((i) => [i.walk_id, i.state]) };
        """,
    )
    assert got["r"]["unauthorizedWalks"] == ["yesterday"]
    assert got["r"]["unauthorized"] is True
    assert got["r"]["sent"] == 1
    assert got["states"] == [["yesterday", "pending"], ["today", "sent"]]
