"""Mail: the notices as messages in the recipient's language, and SMTP to send them.

``SAFEWALK_SMTP_URL`` names the server: ``smtp://host[:25]`` (plain), ``smtps://host[:465]``
(TLS from the start) or ``smtp+starttls://host[:587]`` (STARTTLS), with ``user:password@``
percent-encoded in the URL when the server wants a login. Python's own ``smtplib`` and
``email`` do the work. Every mail links to its item and to the notification settings, is
marked ``Auto-Submitted: auto-generated`` (RFC 3834) so that auto-responders stay quiet, and
carries a plain-text and an HTML part.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from api.core.i18n import date, plural, translate
from models import utcnow
from models.categories import pick_label
from models.notices import NoticeKind
from models.organizations import Language

Security = Literal["plain", "tls", "starttls"]
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtps": ("tls", 465),
    "smtp+starttls": ("starttls", 587),
}
TIMEOUT_S = 10.0


class MailConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    user: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT_S


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise MailConfigError(
            "SAFEWALK_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://"
        )
    if not parts.hostname:
        raise MailConfigError("SAFEWALK_SMTP_URL must name a host")
    security, default_port = _SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise MailConfigError(f"SAFEWALK_SMTP_URL: {exc}") from exc
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        security=security,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def permanent(exc: BaseException) -> bool:
    """Whether the server refused for good (a 5xx), so trying again cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError)
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {code} {msg.decode(errors='replace')}"
            for rcpt, (code, msg) in exc.recipients.items()
        )[:500]
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return f"{exc.smtp_code} {text}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


class Mailer:
    """One SMTP session for a batch of mails (a new connection per mail would cost a TLS
    handshake each); reconnects once if the server hangs up in between."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp: smtplib.SMTP
        if c.security == "tls":
            smtp = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            smtp.ehlo()
            if c.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if c.user:
                smtp.login(c.user, c.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def send(self, message: Message) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPResponseException:
            # Refused at some step: start the next message with a clean transaction.
            try:
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
            raise
        except (smtplib.SMTPException, OSError):
            self.close()
            raise


# --- composing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    language: Language
    name: str | None = None


@dataclass(frozen=True)
class Links:
    """The staff web's addresses (hash routes of web/staff/app.js)."""

    base: str

    def item(self, item_id: str) -> str:
        return f"{self.base.rstrip('/')}/#/items/{item_id}"

    def preferences(self) -> str:
        return f"{self.base.rstrip('/')}/#/notifications"


@dataclass(frozen=True)
class Entry:
    """One notice as the mail tells it."""

    kind: NoticeKind
    payload: dict[str, Any]


def _t(key: str, lang: Language, **params: Any) -> str:
    return translate(key, lang, **params)


def _status(value: str | None, lang: Language) -> str:
    return _t(f"status.{value}", lang) if value else ""


def _date(value: Any, lang: Language) -> str:
    """An ISO date of the payload as the reader writes dates (``3. nov. 2026``)."""
    try:
        return date(Date.fromisoformat(str(value)), lang)
    except ValueError:
        return str(value)


def _category(payload: dict[str, Any], lang: Language) -> str | None:
    """The category's label in the reader's language; notices queued before the labels were
    kept by language carry the Bokmål and English ones only."""
    labels = payload.get("category_labels") or {}
    label_en = labels.get("en") or payload.get("category_en") or ""
    label_nb = labels.get("nb") or payload.get("category_nb") or ""
    return pick_label(lang, label_en, label_nb, labels) or None


def subject(entry: Entry, lang: Language) -> str:
    p = entry.payload
    return _t(
        f"notice.subject.{entry.kind}",
        lang,
        title=p.get("title") or "",
        due_date=_date(p["due_date"], lang) if p.get("due_date") else "",
        url=p.get("url") or "",
        asset=p.get("asset") or "",
        reference=p.get("reference") or "",
    )


def _lines(entry: Entry, lang: Language, links: Links) -> list[tuple[str, str | None]]:
    """(text, link) lines telling one notice; a link is shown after its text."""
    p = entry.payload
    out: list[tuple[str, str | None]] = [
        (
            _t(
                f"notice.lead.{entry.kind}",
                lang,
                url=p.get("url") or "",
                reason=p.get("reason") or "",
            ),
            None,
        )
    ]
    if p.get("title"):
        out.append((p["title"], None))
    if p.get("status"):
        out.append((_t("notice.status", lang, status=_status(p["status"], lang)), None))
    if p.get("due_date"):
        out.append((_t("notice.due", lang, date=_date(p["due_date"], lang)), None))
    if p.get("by"):
        out.append((_t("notice.by", lang, name=p["by"]), None))
    if p.get("comment"):
        out.append((_t("notice.comment", lang, text=p["comment"]), None))
    if p.get("item_id"):
        out.append((_t("notice.open_item", lang), links.item(str(p["item_id"]))))
    return out


def _outside_lines(entry: Entry, lang: Language) -> list[tuple[str, str | None]]:
    """A mail to an outside address (an asset's owner): no staff links, everything it needs
    to act in the mail itself."""
    p = entry.payload
    category = _category(p, lang)
    out: list[tuple[str, str | None]] = [
        (_t(f"notice.lead.{entry.kind}", lang, owner=p.get("owner") or ""), None),
        (_t("notice.asset", lang, asset=p.get("asset") or ""), None),
        (_t("notice.category", lang, category=category or p.get("title") or ""), None),
    ]
    if p.get("description"):
        out.append((_t("notice.description", lang, text=p["description"]), None))
    if p.get("lat") is not None and p.get("lon") is not None:
        lat, lon = f"{float(p['lat']):.6f}", f"{float(p['lon']):.6f}"
        out.append((_t("notice.position", lang, lat=lat, lon=lon), None))
    if p.get("map_url"):
        out.append((_t("notice.map", lang), str(p["map_url"])))
    out.append((_t("notice.reference", lang, reference=p.get("reference") or ""), None))
    return out


def _render(
    blocks: Sequence[tuple[str | None, list[tuple[str, str | None]]]],
    lang: Language,
    links: Links,
    *,
    footer: bool = True,
) -> tuple[str, str]:
    """The plain-text and HTML bodies of some blocks (heading, lines)."""
    text: list[str] = []
    parts: list[str] = []
    for heading, lines in blocks:
        if heading:
            text += [heading, "=" * len(heading)]
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        for line, link in lines:
            text.append(f"{line}: {link}" if link else line)
            if link:
                parts.append(f'<p><a href="{html.escape(link)}">{html.escape(line)}</a></p>')
            else:
                parts.append(f"<p>{html.escape(line)}</p>")
        text.append("")
    if footer:
        note = _t("notice.footer", lang)
        text += ["--", f"{note}: {links.preferences()}"]
        parts.append(
            f'<hr><p><small>{html.escape(note)}: <a href="{html.escape(links.preferences())}">'
            f"{html.escape(links.preferences())}</a></small></p>"
        )
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head><body>'
        + "".join(parts)
        + "</body></html>"
    )
    return "\n".join(text) + "\n", page


def _message(
    to: Recipient, sender: str, subject_text: str, bodies: tuple[str, str]
) -> MIMEMultipart:
    # The classic email.mime classes: the same MIME as EmailMessage, at a third of its cost
    # (its header registry parses every header it is given), which a sender draining
    # thousands of notices feels.
    msg = MIMEMultipart("alternative")
    name, address = parseaddr(sender)
    msg["From"] = formataddr((name, address), charset="utf-8")
    msg["To"] = to.email
    # A Header (RFC 2047 for anything not ASCII) is folded by the generator itself; the stubs
    # only know str values.
    msg["Subject"] = Header(subject_text, "utf-8", header_name="Subject")  # type: ignore[assignment]
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or "safewalk.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = str(to.language)
    msg.attach(MIMEText(bodies[0], "plain", "utf-8"))
    msg.attach(MIMEText(bodies[1], "html", "utf-8"))
    return msg


def compose(
    entry: Entry, to: Recipient, *, sender: str, links: Links, outside: bool = False
) -> MIMEMultipart:
    """One notice, one mail; ``outside``: to an address outside the organization, which has
    neither the staff web nor notification settings."""
    lang = to.language
    if outside:
        bodies = _render([(None, _outside_lines(entry, lang))], lang, links, footer=False)
    else:
        bodies = _render([(None, _lines(entry, lang, links))], lang, links)
    return _message(to, sender, subject(entry, lang), bodies)


def compose_digest(
    entries: Sequence[Entry], to: Recipient, *, sender: str, links: Links
) -> MIMEMultipart:
    """The day's waiting notices in one mail, grouped by kind."""
    lang = to.language
    order = list(NoticeKind)
    groups: dict[NoticeKind, list[Entry]] = {}
    for e in sorted(entries, key=lambda e: order.index(e.kind)):
        groups.setdefault(e.kind, []).append(e)
    blocks: list[tuple[str | None, list[tuple[str, str | None]]]] = [
        (None, [(_t("notice.digest.lead", lang), None)])
    ]
    for kind, members in groups.items():
        lines: list[tuple[str, str | None]] = []
        for e in members:
            p = e.payload
            title = str(p.get("title") or p.get("url") or "")
            extra = []
            if p.get("due_date"):
                extra.append(_t("notice.due", lang, date=_date(p["due_date"], lang)))
            if p.get("comment"):
                extra.append(_t("notice.comment", lang, text=p["comment"]))
            label = " – ".join([title, *extra])
            link = links.item(str(p["item_id"])) if p.get("item_id") else None
            lines.append((label, link))
        heading = plural(f"notice.heading.{kind}", lang, len(members))
        blocks.append((heading, lines))
    bodies = _render(blocks, lang, links)
    return _message(to, sender, plural("notice.digest.subject", lang, len(entries)), bodies)
