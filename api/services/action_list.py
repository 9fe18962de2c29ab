"""Moved to ``api/action_items/reads.py`` (one action-item domain, issue 10).

Kept only so that branches written against the old path still import; remove it once they are
merged. New code imports from ``api.action_items``.
"""

from api.action_items.reads import *  # noqa: F403
