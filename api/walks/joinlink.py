"""Join links for walks (``/j/{code}``) and their QR codes, for the terminal and the demo.

A phone on the same Wi-Fi cannot open ``127.0.0.1``: when the server listens on every
interface (``0.0.0.0``), the link uses this machine's address on the local network.
"""

from __future__ import annotations

import io
import socket


def lan_address() -> str:
    """The address other machines on the local network reach us at (no packet is sent:
    connecting a UDP socket only picks the outgoing interface)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only used to pick a route
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def public_base(host: str, port: int, public_url: str = "") -> str:
    if public_url:
        return public_url.rstrip("/")
    if host in ("0.0.0.0", "::", ""):
        host = lan_address()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def join_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/j/{code}"


def terminal_qr(url: str) -> str:
    """The QR code as text for a terminal (half-height blocks, dark on light)."""
    out = io.StringIO()
    import segno  # only the demo prints a QR code

    segno.make(url, error="m", micro=False).terminal(out=out, compact=True, border=2)
    return out.getvalue()
