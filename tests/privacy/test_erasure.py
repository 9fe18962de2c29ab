"""Erasure on request: one participant or one walk's participants lose their notes, photos (every
file on disk) and display names; the action list stays true. Coordinators and admins only;
another organization's ids answer 404. Both databases."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.settings import Settings
from models import (
    ActionItem,
    ErasureKind,
    ErasureRecord,
    Observation,
    Participant,
    ParticipantGroup,
    Photo,
)
from tests.factories.client import SyncClient
from tests.factories.observations import near, point
from tests.factories.photos import new_observation, plain_jpeg, put_photo, stored_files
from tests.factories.world import World, participant_token


def erase_one(client: SyncClient, world: World, pid: Any, who: str = "coordinator") -> Any:
    return client.post(
        f"/api/v1/walks/{world.walk.id}/participants/{pid}/erase", headers=world.headers(who)
    )


def erase_walk(client: SyncClient, world: World, walk_id: Any, who: str = "coordinator") -> Any:
    return client.post(f"/api/v1/walks/{walk_id}/erase-participants", headers=world.headers(who))


def with_photo(client: SyncClient, world: World, who: str, colour: str, east: float) -> str:
    oid = new_observation(client, world, who=who, location=point(near(east, 0)))
    r = put_photo(client, world, oid, plain_jpeg(colour=colour), who=who)
    assert r.status_code == 201, r.text
    return oid


@pytest.fixture
def walk_with_two(
    app: Any, client: SyncClient, world: World, session: Session, settings: Settings
) -> dict[str, Any]:
    """Ada (the world's participant) and Bo on one walk, reporting the same dark path; one of
    Ada's pictures is also Bo's (identical files are shared)."""
    bo = Participant(
        organization_id=world.org.id, walk_id=world.walk.id, group=ParticipantGroup.police,
        display_name="Bo",
    )  # fmt: skip
    session.add(bo)
    session.commit()
    world.tokens["bo"] = participant_token(app, bo)
    media = settings.resolved_media_dir
    ada_obs = [with_photo(client, world, "participant", "navy", 0)]
    before_own = set(stored_files(media))
    ada_obs.append(with_photo(client, world, "participant", "olive", 3))
    bo_obs = with_photo(client, world, "bo", "olive", 6)  # the same picture as Ada's
    return {"bo": bo, "ada_obs": ada_obs, "bo_obs": bo_obs, "media": media, "navy": before_own}


def obs_rows(session: Session, ids: list[str]) -> list[Observation]:
    session.expire_all()
    return [o for i in ids if (o := session.get(Observation, uuid.UUID(i))) is not None]


def photos_of(session: Session, ids: list[str]) -> int:
    return len(
        list(
            session.scalars(
                select(col(Photo.id)).where(
                    col(Photo.observation_id).in_([uuid.UUID(i) for i in ids])
                )
            )
        )
    )


def test_erasing_one_participant_removes_notes_photos_files_and_name(
    client: SyncClient, world: World, session: Session, walk_with_two: dict[str, Any]
) -> None:
    media: Path = walk_with_two["media"]
    ada_obs: list[str] = walk_with_two["ada_obs"]
    bo_obs: str = walk_with_two["bo_obs"]
    files_before = set(stored_files(media))
    assert len(files_before) == 6  # two pictures, three files each
    navy_files = walk_with_two["navy"]
    item_id = obs_rows(session, [bo_obs])[0].action_item_id
    item = session.get(ActionItem, item_id)
    assert item is not None
    counts_before = (item.observation_count, list(item.participant_groups))

    r = erase_one(client, world, world.participant.id)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "walk_id": str(world.walk.id),
        "participants": 1,
        "notes": 2,
        "photos": 2,
        "files": 3,  # the navy picture; the olive one is Bo's too
    }
    # On disk: Ada's own picture is gone in every size, the shared one stays for Bo.
    assert set(stored_files(media)) == files_before - navy_files
    assert not any(p.exists() for p in navy_files)

    rows = obs_rows(session, ada_obs)
    assert [o.note for o in rows] == [None, None]
    assert all(o.location is not None and o.action_item_id == item_id for o in rows)
    assert photos_of(session, ada_obs) == 0
    assert photos_of(session, [bo_obs]) == 1
    assert obs_rows(session, [bo_obs])[0].note == "Lamp post out along the path"
    ada = session.get(Participant, world.participant.id)
    assert ada is not None
    assert (ada.display_name, ada.group) == (None, ParticipantGroup.youth)
    bo = session.get(Participant, walk_with_two["bo"].id)
    assert bo is not None
    assert bo.display_name == "Bo"
    # The action list stays true: same members, counts and groups.
    item = session.get(ActionItem, item_id)
    assert item is not None
    assert (item.observation_count, list(item.participant_groups)) == counts_before
    # The record says how many, and who asked; never whose.
    records = list(session.scalars(select(ErasureRecord)))
    assert [
        (r.kind, r.walk_id, r.actor_user_id, r.participants, r.notes, r.photos) for r in records
    ] == [(ErasureKind.participant, world.walk.id, world.users["coordinator"].id, 1, 2, 2)]

    # Again: nothing left to erase, nothing on disk changes.
    again = erase_one(client, world, world.participant.id, who="admin")
    assert again.status_code == 200, again.text
    assert again.json() | {"walk_id": None} == {
        "walk_id": None, "participants": 0, "notes": 0, "photos": 0, "files": 0
    }  # fmt: skip
    assert set(stored_files(media)) == files_before - navy_files


def test_erasing_a_walks_participants_removes_every_file(
    client: SyncClient, world: World, session: Session, walk_with_two: dict[str, Any]
) -> None:
    media: Path = walk_with_two["media"]
    other = new_observation(
        client, world, who="other_participant", walk_id=str(world.other_walk.id)
    )
    r = erase_walk(client, world, world.walk.id)
    assert r.status_code == 200, r.text
    assert r.json() | {"walk_id": None} == {
        "walk_id": None, "participants": 2, "notes": 3, "photos": 3, "files": 6
    }  # fmt: skip
    assert stored_files(media) == []
    ids = [*walk_with_two["ada_obs"], walk_with_two["bo_obs"]]
    assert [o.note for o in obs_rows(session, ids)] == [None, None, None]
    assert photos_of(session, ids) == 0
    names = set(
        session.scalars(
            select(col(Participant.display_name)).where(col(Participant.walk_id) == world.walk.id)
        )
    )
    assert names == {None}
    # The other walk is untouched.
    assert obs_rows(session, [other])[0].note == "Lamp post out along the path"


def test_ids_of_another_walk_or_organization_answer_404(client: SyncClient, world: World) -> None:
    assert erase_walk(client, world, world.walk.id, who="foreign_admin").status_code == 404
    assert erase_one(client, world, world.participant.id, who="foreign_admin").status_code == 404
    # A participant of another walk, through this walk: 404, and nothing happens.
    assert erase_one(client, world, world.other_participant.id).status_code == 404
    assert erase_one(client, world, uuid.uuid4()).status_code == 404
    assert erase_walk(client, world, uuid.uuid4()).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("participant", 403, id="participant"),
        pytest.param("planner", 403, id="planner"),
        pytest.param("engineer", 403, id="engineer"),
        pytest.param("anonymous", 401, id="anonymous"),
    ],
)
def test_only_coordinators_and_admins_erase(
    client: SyncClient, world: World, session: Session, who: str, status: int
) -> None:
    assert erase_one(client, world, world.participant.id, who=who).status_code == status
    assert erase_walk(client, world, world.walk.id, who=who).status_code == status
    session.expire_all()
    ada = session.get(Participant, world.participant.id)
    assert ada is not None
    assert ada.display_name == "Ada"


def test_an_erased_participant_can_add_nothing_more(
    client: SyncClient, world: World, walk_with_two: dict[str, Any]
) -> None:
    """Their token stops at once: nothing new is tied to a person who asked to be forgotten.
    Bo, on the same walk, goes on."""
    assert client.get("/api/v1/me", headers=world.headers("participant")).status_code == 200
    assert erase_one(client, world, world.participant.id).status_code == 200
    r = client.get("/api/v1/me", headers=world.headers("participant"))
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/me", headers=world.headers("bo")).status_code == 200
