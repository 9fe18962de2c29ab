"""The mails in each of the six languages: subject, lines, the category's own label and the
due date as the reader writes dates, with no text left from another language."""

from __future__ import annotations

from datetime import date
from email.header import decode_header, make_header
from email.message import Message

import pytest

from api.core.i18n import LANGUAGES, Language, plural, translate
from api.core.i18n import date as format_date
from api.notices.mail import Entry, Links, Recipient, compose, compose_digest
from models.notices import NoticeKind

LINKS = Links("https://safewalk.example/")
DUE = date(2026, 11, 3)
LABELS = {
    "en": "Poor lighting",
    "nb": "Dårlig belysning",
    "nn": "Dårleg belysning",
    "sv": "Dålig belysning",
    "da": "Dårlig belysning",
    "fi": "Huono valaistus",
}
OVERDUE = Entry(
    NoticeKind.overdue,
    {"item_id": "1", "title": "Mørk sti", "status": "in_progress", "due_date": DUE.isoformat()},
)
REFERRED = Entry(
    NoticeKind.referred,
    {
        "item_id": "2",
        "reference": "R-7",
        "title": "Mørk sti",
        "category_nb": LABELS["nb"],
        "category_en": LABELS["en"],
        "category_labels": LABELS,
        "asset": "L-12",
        "owner": "Elvia",
        "lon": 10.75,
        "lat": 59.91,
    },
)


def _texts(msg: Message) -> tuple[str, str]:
    subject = str(make_header(decode_header(str(msg["Subject"]))))
    plain = msg.get_payload()[0].get_payload(decode=True).decode("utf-8")  # type: ignore[index,union-attr]
    return subject, plain


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_an_item_mail_in_each_language(lang: Language) -> None:
    msg = compose(OVERDUE, Recipient("a@x.example", lang), sender="s@x.example", links=LINKS)
    subject, body = _texts(msg)
    due = format_date(DUE, lang)
    assert subject == translate("notice.subject.overdue", lang, due_date=due, title="Mørk sti")
    assert translate("notice.status", lang, status=translate("status.in_progress", lang)) in body
    assert translate("notice.due", lang, date=due) in body
    assert DUE.isoformat() not in body + subject  # a date as the reader writes it
    assert msg["Content-Language"] == lang.value
    for other in LANGUAGES:
        if translate("notice.footer", other) != translate("notice.footer", lang):
            assert translate("notice.footer", other) not in body, other


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_a_referral_names_the_category_in_the_owners_language(lang: Language) -> None:
    to = Recipient("owner@x.example", lang)
    msg = compose(REFERRED, to, sender="s@x.example", links=LINKS, outside=True)
    _, body = _texts(msg)
    assert translate("notice.category", lang, category=LABELS[lang.value]) in body
    assert translate("notice.reference", lang, reference="R-7") in body


def test_a_referral_queued_with_two_labels_still_reads() -> None:
    """A notice stored before the labels were kept by language: English for the others."""
    old = Entry(
        NoticeKind.referred, {k: v for k, v in REFERRED.payload.items() if k != "category_labels"}
    )
    for lang, label in ((Language.nb, LABELS["nb"]), (Language.fi, LABELS["en"])):
        msg = compose(
            old, Recipient("o@x.example", lang), sender="s@x.example", links=LINKS, outside=True
        )
        assert translate("notice.category", lang, category=label) in _texts(msg)[1]


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
@pytest.mark.parametrize("count", [1, 2, 5])
def test_a_digest_counts_in_each_language(lang: Language, count: int) -> None:
    entries = [OVERDUE] * count
    msg = compose_digest(entries, Recipient("a@x.example", lang), sender="s@x.example", links=LINKS)
    subject, body = _texts(msg)
    assert subject == plural("notice.digest.subject", lang, count)
    assert plural("notice.heading.overdue", lang, count) in body
    assert format_date(DUE, lang) in body
