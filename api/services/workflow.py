"""Moved to ``api/action_items/workflow.py`` (one action-item domain, issue 10).

Kept only so that branches written against the old path still import; remove it once they are
merged. New code imports from ``api.action_items``.
"""

from api.action_items.workflow import *  # noqa: F403
