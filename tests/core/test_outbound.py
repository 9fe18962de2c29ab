"""Where the service may send requests of its own: global addresses only, unless allowed."""

from __future__ import annotations

import pytest

from api.core import outbound
from api.core.outbound import UnsafeUrl, check_url


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1/", id="loopback"),
        pytest.param("http://127.8.9.10/", id="loopback-net"),
        pytest.param("http://10.0.0.1/", id="private-10"),
        pytest.param("http://172.16.5.4/", id="private-172"),
        pytest.param("http://192.168.0.1/", id="private-192"),
        pytest.param("http://169.254.169.254/", id="link-local"),
        pytest.param("http://100.64.0.1/", id="shared-cgnat"),
        pytest.param("http://0.0.0.0/", id="unspecified"),
        pytest.param("http://224.0.0.1/", id="multicast"),
        pytest.param("http://[::1]/", id="ipv6-loopback"),
        pytest.param("http://[fe80::1]/", id="ipv6-link-local"),
        pytest.param("http://[fd00::1]/", id="ipv6-unique-local"),
        pytest.param("http://[::ffff:10.0.0.1]/", id="ipv4-mapped"),
    ],
)
def test_inside_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url)
    assert check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        pytest.param("ftp://93.184.216.34/", "http", id="scheme"),
        pytest.param("https:///path", "host", id="no-host"),
        pytest.param("https://user:pw@93.184.216.34/", "password", id="credentials"),
        pytest.param("https://93.184.216.34:99999/", "URL", id="bad-port"),
    ],
)
def test_malformed_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why):
        check_url(url, allow_private=True)


def test_every_address_of_a_name_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.216.34", "fe80::1%eth0"]

    monkeypatch.setattr(outbound, "getaddrinfo", resolve)
    with pytest.raises(UnsafeUrl, match="fe80::1"):
        check_url("https://hooks.example.org/in")
    assert asked == [("hooks.example.org", 443)]
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["93.184.216.34"])
    assert [str(a) for a in check_url("http://hooks.example.org:8080/in")] == ["93.184.216.34"]


def test_a_pass_that_sends_nothing_makes_no_client() -> None:
    client = outbound.OutboundClient(timeout=5.0, connect_timeout=3.0)
    client.close()
    assert client._client is None


def test_the_client_is_made_at_the_first_request_and_closed_by_its_maker() -> None:
    import httpx

    client = outbound.OutboundClient(timeout=5.0, connect_timeout=3.0, trust_env=False)
    made = client.http
    assert client.http is made  # one client for the whole pass
    assert (made.timeout.read, made.timeout.connect) == (5.0, 3.0)
    assert made.trust_env is False
    client.close()
    assert made.is_closed

    given = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    lent = outbound.OutboundClient(given, timeout=1.0)
    assert lent.http is given
    assert lent.http.get("http://receiver.example/").status_code == 204
    lent.close()
    assert not given.is_closed  # the caller's client is the caller's to close
    given.close()
