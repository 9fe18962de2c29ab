"""Where the service may send requests of its own: not to itself, nor into the network it runs in.

A URL an admin types (a webhook) is fetched by the server, so a URL that resolves to
loopback, link-local (cloud metadata at 169.254.169.254), private or otherwise non-global
addresses would let an admin, or whoever holds an admin's token, reach what only the server
can reach (server-side request forgery). Every address a name resolves to must be global; the
check runs when the URL is saved and again before each delivery, because DNS answers change.
``allow_private`` (``SAFEWALK_WEBHOOK_ALLOW_PRIVATE=1``) lifts it for on-premises receivers.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from api.core.errors import InvalidInput

if TYPE_CHECKING:
    import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """Why a URL may not be fetched by the service: a catalogue message (``key``, ``params``)
    fit for the caller; the exception's text is its English."""

    def __init__(self, key: str, **params: Any) -> None:
        from api.core.i18n import translate  # the catalogues load on first use

        super().__init__(translate(key, "en", **params))
        self.key = key
        self.params = params


def getaddrinfo(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the tests replace this to fake DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _refused(ip: IPAddress) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return not ip.is_global or ip.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _addresses(host: str, port: int) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        found = getaddrinfo(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl("error.url_unresolved", host=host) from exc
    # A scoped IPv6 address (fe80::1%eth0) is link-local whatever its scope.
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not addresses:
        raise UnsafeUrl("error.url_unresolved", host=host)
    return addresses


def check_url(url: str, *, allow_private: bool = False) -> list[IPAddress]:
    """The addresses ``url`` would reach; :class:`UnsafeUrl` if it must not be fetched."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("error.url_malformed", reason=str(exc)) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("error.url_scheme")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("error.url_host")
    if parts.username or parts.password:
        raise UnsafeUrl("error.url_userinfo")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _addresses(host, port)
    if not allow_private:
        bad = [a for a in addresses if _refused(a)]
        if bad:
            raise UnsafeUrl("error.url_private", host=host, address=str(bad[0]))
    return addresses


def endpoint_base(url: str, *, allow_private: bool = False) -> str:
    """An endpoint the service will post to (an Open311 case system), checked as it is saved
    and ending in ``/`` so that paths join onto it; a refusal names ``body.url``."""
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise InvalidInput.at(["body", "url"], exc.key, **exc.params) from exc
    return url if url.endswith("/") else url + "/"


class OutboundClient:
    """The HTTP client of one job pass (webhooks, Open311), made at its first request.

    Most passes have nothing to send, and most workers never send at all: they do not pay for
    httpx (and, in a development install, the rich and Pygments its command line pulls in)
    until a request leaves. A client handed in (the tests' mock transport) is used as it is and
    left open; one made here is closed by ``close``.
    """

    def __init__(
        self,
        given: httpx.Client | None = None,
        *,
        timeout: float,
        connect_timeout: float | None = None,
        **options: Any,
    ) -> None:
        self._client = given
        self._own = given is None
        self._timeout = timeout
        self._connect = connect_timeout if connect_timeout is not None else timeout
        self._options = options

    @property
    def http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            timeout = httpx.Timeout(self._timeout, connect=self._connect)
            self._client = httpx.Client(timeout=timeout, **self._options)
        return self._client

    def close(self) -> None:
        if self._own and self._client is not None:
            self._client.close()
