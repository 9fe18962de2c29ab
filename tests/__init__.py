"""safewalk's tests, in folders that mirror api/; helpers in factories/, real servers in live/."""

import pytest

# The helpers assert too (a request that must answer 201, say): their failures read like a test's.
pytest.register_assert_rewrite("tests.factories", "tests.live")
