"""The action-item domain in one room: grouping observations into items (``grouping``), the
workflow with its history and ETags (``workflow``), reads, lists, exports and follow-up
figures (``reads``), and the HTTP routes (``router``). The move table sits beside the status
enum in ``models/action_items.py``.

The rest of the service calls in through :func:`observation_changed`, explicitly, whenever an
observation is stored, placed, moderated, edited or withdrawn (no hooks registered at import
time). Only ``grouping`` is imported here, so capture can call it without pulling in the
workflow, the reads or FastAPI.
"""

from api.action_items.grouping import DEFAULT_RULES, GroupingRules, observation_changed

__all__ = ["DEFAULT_RULES", "GroupingRules", "observation_changed"]
