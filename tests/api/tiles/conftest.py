"""The tiles tests read the same module-scoped seeded world as the /ogc tests."""

from tests.api.ogc.conftest import readers

__all__ = ["readers"]
