"""The web apps' shared kit (web/shared/) in a real browser, without a server: the i18n runtime
(one language-choice rule, Intl.PluralRules plurals), h(), the API client (token, language,
If-Match, problem details naming the fields) and the map's base style. The modules are served
to the page by Playwright's router at the path the service serves them from, /shared/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from geo.mercator import tiles_covering
from tests.factories.browser import ROOT

ORIGIN = "http://kit.test"
SHARED = ROOT / "web" / "shared"
HARNESS = """<!doctype html><html><head><title>kit</title></head><body>
<p id="greeting" data-i18n="hello" data-i18n-title="hello"></p>
<script type="module">
import * as i18n from '/shared/i18n.js';
import * as dom from '/shared/dom.js';
import * as api from '/shared/api.js';
import * as map from '/shared/map.js';
Object.assign(window, { i18n, dom, api, map });
document.body.dataset.ready = 'true';
</script></body></html>"""

CATALOGUES = """({
  en: { hello: 'Hello', waiting: { one: '{n} observation waiting', other: '{n} observations waiting' },
        reports: { one: 'One report', other: '{n} reports' }, only_en: 'English only', named: 'Hi {name}' },
  nb: { hello: 'Hei', waiting: { one: '{n} observasjon venter', other: '{n} observasjoner venter' },
        reports: { one: 'Én melding', other: '{n} meldinger' }, named: 'Hei {name}' },
  nn: { hello: 'Hei' },
})"""


def _serve(api_calls: list[dict[str, Any]]) -> Any:
    def serve(route: Any) -> None:
        url = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if url in ("/", "/index.html"):
            route.fulfill(status=200, content_type="text/html", body=HARNESS)
        elif url.startswith("/shared/") and (SHARED / url.removeprefix("/shared/")).is_file():
            body = (SHARED / url.removeprefix("/shared/")).read_text(encoding="utf-8")
            route.fulfill(status=200, content_type="text/javascript", body=body)
        elif url == "/api/v1/items/1":
            api_calls.append(dict(route.request.headers))
            if route.request.headers.get("if-match") == '"stale"':
                problem = {
                    "title": "Precondition Failed",
                    "status": 412,
                    "detail": "the item changed since you read it",
                }
                route.fulfill(
                    status=412, content_type="application/problem+json", body=json.dumps(problem)
                )
            elif route.request.method == "PATCH":
                problem = {
                    "title": "Unprocessable",
                    "status": 422,
                    "detail": "invalid input",
                    "errors": [{"loc": ["body", "due_date"], "msg": "not a date"}],
                }
                route.fulfill(
                    status=422, content_type="application/problem+json", body=json.dumps(problem)
                )
            else:
                route.fulfill(
                    status=200,
                    content_type="application/json",
                    headers={"ETag": '"v2"'},
                    body=json.dumps({"id": 1}),
                )
        else:
            route.fulfill(status=404, body="not found")

    return serve


@pytest.fixture(scope="module")
def calls() -> list[dict[str, Any]]:
    return []


@pytest.fixture(scope="module")
def context(browser: Any, calls: list[dict[str, Any]]) -> Iterator[Any]:
    ctx = browser.new_context(locale="nn-NO")
    ctx.route(f"{ORIGIN}/**", _serve(calls))
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    p = context.new_page()
    # Before the modules run, so one load gives them an empty storage.
    p.add_init_script("localStorage.clear()")
    p.goto(f"{ORIGIN}/")
    p.wait_for_selector("body[data-ready=true]", state="attached")
    yield p
    p.close()


def js(page: Any, body: str) -> Any:
    return page.evaluate(f"async () => {{ {body} }}")


def test_one_language_choice_rule(page: Any) -> None:
    got = js(
        page,
        f"""
        const first = i18n.setup({CATALOGUES});  // the browser says nn-NO: Nynorsk now
        const html = document.documentElement.lang;
        const pick = (langs) => i18n.preferredLanguage(langs);
        const rules = [pick(['nn-NO']), pick(['no']), pick(['sv-SE', 'en-US']), pick(['de', 'fr']),
                       pick(['sv', 'nb-NO', 'en'])];
        i18n.setLanguage('en', {{ remember: true }});
        const remembered = [localStorage.getItem('safewalk.lang'), pick(['nb-NO'])];
        i18n.setLanguage('xx', {{ remember: true }});
        return {{ first, html, rules, remembered, now: i18n.lang(), languages: i18n.languages() }};
        """,
    )
    assert (got["first"], got["html"]) == ("nn", "nn")
    assert got["rules"] == ["nn", "nb", "en", "en", "nb"]
    # The user's own choice outlives the tab and wins over the browser's languages.
    assert got["remembered"] == ["en", "en"]
    assert got["now"] == "en"  # a language without a catalogue changes nothing
    assert got["languages"] == ["en", "nb", "nn"]


def test_plurals_follow_intl_plural_rules(page: Any) -> None:
    got = js(
        page,
        f"""
        i18n.setup({CATALOGUES});
        const say = () => [0, 1, 2, 21].map((n) => i18n.tn('waiting', n))
          .concat([1, 5].map((n) => i18n.t('reports', {{ n }})));
        i18n.setLanguage('en');
        const en = say();
        i18n.setLanguage('nb');
        const nb = say();
        return {{ en, nb, fallback: i18n.t('only_en'), missing: i18n.t('no.such.key'),
                  named: i18n.t('named', {{ name: '<b>Kari</b>' }}), unnamed: i18n.t('named') }};
        """,
    )
    assert got["en"] == [
        "0 observations waiting",
        "1 observation waiting",
        "2 observations waiting",
        "21 observations waiting",
        "One report",
        "5 reports",
    ]
    assert got["nb"] == [
        "0 observasjoner venter",
        "1 observasjon venter",
        "2 observasjoner venter",
        "21 observasjoner venter",
        "Én melding",
        "5 meldinger",
    ]
    assert got["fallback"] == "English only"
    assert got["missing"] == "no.such.key"
    assert got["named"] == "Hei <b>Kari</b>"
    assert got["unnamed"] == "Hei {name}"  # a value not given shows, rather than vanishing


def test_translate_fills_text_and_attributes(page: Any) -> None:
    got = js(
        page,
        f"""
        i18n.setup({CATALOGUES});
        i18n.setLanguage('en');
        i18n.translate();
        const p = document.getElementById('greeting');
        return [p.textContent, p.title];
        """,
    )
    assert got == ["Hello", "Hello"]


def test_h_builds_elements_never_markup(page: Any) -> None:
    got = js(
        page,
        """
        let clicked = 0;
        const el = dom.h('button', { type: 'button', class: 'primary', 'aria-label': 'Save it',
          dataset: { id: '7' }, hidden: false, disabled: true, onClick: () => { clicked += 1; } },
          '<img src=x onerror=alert(1)>', ['a', ['b', null, false]], 3);
        el.disabled = false;
        el.click();
        const holder = dom.clear(dom.h('div'), dom.h('span', { text: 'x' }), 'y');
        const original = crypto.randomUUID;
        crypto.randomUUID = undefined;  // plain http on a LAN address: no randomUUID
        const made = dom.uuid();
        crypto.randomUUID = original;
        return { html: el.outerHTML, clicked, holder: holder.innerHTML, made,
                 images: el.querySelectorAll('img').length };
        """,
    )
    assert got["images"] == 0
    assert "&lt;img src=x onerror=alert(1)&gt;ab3" in got["html"]
    assert 'aria-label="Save it"' in got["html"]
    assert 'data-id="7"' in got["html"]
    assert "hidden" not in got["html"]
    assert got["clicked"] == 1
    assert got["holder"] == "<span>x</span>y"
    assert len(got["made"]) == 36
    assert got["made"][14] == "4"  # version 4
    assert got["made"][19] in "89ab"  # RFC 4122 variant


def test_the_client_sends_token_language_and_if_match(
    page: Any, calls: list[dict[str, Any]]
) -> None:
    calls.clear()
    got = js(
        page,
        f"""
        i18n.setup({CATALOGUES});
        i18n.setLanguage('nb');
        const read = await api.answer('/api/v1/items/1', {{ token: 'tok' }});
        let stale = null;
        try {{
          await api.expectOk('/api/v1/items/1', {{ method: 'PATCH', token: 'tok', json: {{}}, ifMatch: '"stale"' }});
        }} catch (err) {{
          stale = {{ status: err.status, message: err.message, isApiError: err instanceof api.ApiError }};
        }}
        let invalid = null;
        try {{
          await api.expectOk('/api/v1/items/1', {{ method: 'PATCH', json: {{ due_date: 'x' }}, ifMatch: read.etag }});
        }} catch (err) {{
          invalid = {{ status: err.status, text: err.text, fields: err.fields }};
        }}
        return {{ read, stale, invalid }};
        """,
    )
    assert got["read"]["status"] == 200
    assert got["read"]["body"] == {"id": 1}
    assert got["read"]["etag"] == '"v2"'
    assert got["stale"] == {
        "status": 412,
        "message": "the item changed since you read it",
        "isApiError": True,
    }
    assert got["invalid"]["status"] == 422
    assert got["invalid"]["text"] == "due_date: not a date"
    assert got["invalid"]["fields"] == [{"field": "due_date", "msg": "not a date"}]
    first, second, third = calls
    assert first["authorization"] == "Bearer tok"
    assert first["accept-language"] == "nb"
    assert "application/problem+json" in first["accept"]
    assert "if-match" not in first
    assert second["if-match"] == '"stale"'
    assert second["content-type"] == "application/json"
    assert third["if-match"] == '"v2"'
    assert "authorization" not in third


def test_one_base_style_for_every_map(page: Any) -> None:
    """Every map asks the service for its style (the organization's, when the app knows it);
    without an answer (offline, never cached) it draws a plain background."""
    got = js(
        page,
        """
        const plain = await map.basemapStyle('#101010');
        map.setOrganization('sandnes kommune');
        const url = map.styleUrl();
        map.setOrganization(null);
        return {
          plain, url, none: map.hasNoBasemap({ metadata: { 'safewalk:basemap': 'none' } }),
          file: map.hasNoBasemap({ metadata: { 'safewalk:basemap': 'file' } }),
          offline: map.hasNoBasemap(plain),
          tiles: map.tilesCovering([[5.72, 58.84], [5.76, 58.86]], 14),
          bounds: map.bounds({ type: 'FeatureCollection', features: [
            { type: 'Feature', geometry: { type: 'Point', coordinates: [5.7, 58.8] } },
            { type: 'Feature', geometry: { type: 'LineString', coordinates: [[5.6, 58.9], [5.8, 58.7]] } },
          ] }, [5.9, 58.85]),
          nothing: map.bounds({ type: 'FeatureCollection', features: [] }),
        };
        """,
    )
    assert got["plain"] == {
        "version": 8,
        "sources": {},
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#101010"}}
        ],
    }
    assert got["url"] == "/basemap/style.json?org=sandnes%20kommune"
    assert got["none"] is True
    assert got["file"] is False
    assert got["offline"] is False  # not known to have none: no note
    # The z14 tiles of Sandnes sentrum (as geo.mercator numbers them).
    assert got["tiles"] == [list(t) for t in tiles_covering((5.72, 58.84, 5.76, 58.86), 14)]
    assert got["bounds"] == [[5.6, 58.7], [5.9, 58.9]]
    assert got["nothing"] is None
