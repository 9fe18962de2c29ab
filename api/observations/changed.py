"""The one fan-out when a stored observation changes: placed, edited, moderated, withdrawn.

Every path that changes one observation (the author's edits and withdrawal; moderation; a
photo's GPS placing it; an Open311 POST; the demo) calls :func:`observation_changed` once the
change is flushed. What follows an observation is listed here: its action item (grouping),
then the hotspot counters and the open-item cells of the item it left and joined. Capture (a single PUT is a chunk of one, a batch chunks of 20) has
its own fan-out for a chunk of new observations, ``capture._write_chunk``: the chunk's
grouping (``action_items.chunk``), then its counters (``hotspots.rollup.added``). One fan-out
per path, called explicitly, no hooks: a script that stores observations groups and counts
them too.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api import action_items
from api.action_items import DEFAULT_RULES, GroupingRules
from api.hotspots import rollup as hotspot_rollup
from models import Observation


def observation_changed(
    session: Session, obs: Observation, rules: GroupingRules = DEFAULT_RULES
) -> None:
    item_before = obs.action_item_id
    action_items.observation_changed(session, obs, rules)
    hotspot_rollup.observation_changed(session, obs, item_before)
