"""The real receivers of the notice tests (an SMTP server, a webhook endpoint) as fixtures."""

from tests.factories.notices import inbox, receiver

__all__ = ["inbox", "receiver"]
