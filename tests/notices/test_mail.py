"""SAFEWALK_SMTP_URL: the three schemes, credentials from the URL (and used: a login against a
real server), and what counts as refused for good."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from api.notices.mail import MailConfigError, Mailer, SmtpConfig, parse_smtp_url, permanent
from tests.factories.notices import Inbox, free_port


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("smtp://mail.example.org", SmtpConfig("mail.example.org", 25, "plain"), id="plain"),
        pytest.param("smtps://u:p@mail.example.org", SmtpConfig("mail.example.org", 465, "tls", "u", "p"), id="tls"),
        pytest.param(
            "smtp+starttls://safewalk%40kommune.no:p%C3%A5%2F%3A@smtp.kommune.no:2525",
            SmtpConfig("smtp.kommune.no", 2525, "starttls", "safewalk@kommune.no", "på/:"),
            id="starttls-encoded-credentials",
        ),
    ],
)  # fmt: skip
def test_the_url_says_how_to_connect(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://mail.example.org", id="not-smtp"),
        pytest.param("smtp://", id="no-host"),
        pytest.param("smtp://mail.example.org:port", id="bad-port"),
    ],
)
def test_a_bad_url_is_refused(url: str) -> None:
    with pytest.raises(MailConfigError):
        parse_smtp_url(url)


def test_user_and_password_log_in() -> None:
    seen: list[tuple[str, str]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret/:")

    box = Inbox(port=free_port())
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port, authenticator=authenticator,
        auth_require_tls=False,  # loopback only; the login itself is what is tested
    )  # fmt: skip
    controller.start()
    try:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@example.org", "b@example.org", "hello"
        msg.set_content("hi")
        with Mailer(parse_smtp_url(f"smtp://safewalk:s3cret%2F%3A@127.0.0.1:{box.port}")) as mailer:
            mailer.send(msg)
        assert seen == [("safewalk", "s3cret/:")]
        assert [r.rcpt_tos for r in box.messages] == [["b@example.org"]]
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("exc", "final"),
    [
        pytest.param(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")}), True, id="550"),
        pytest.param(smtplib.SMTPRecipientsRefused({"a@x": (451, b"later")}), False, id="451"),
        pytest.param(smtplib.SMTPDataError(554, b"rejected"), True, id="data-554"),
        pytest.param(smtplib.SMTPAuthenticationError(535, b"bad login"), False, id="auth-is-config"),
        pytest.param(ConnectionRefusedError(), False, id="down"),
    ],
)  # fmt: skip
def test_what_is_refused_for_good(exc: BaseException, final: bool) -> None:
    assert permanent(exc) is final
