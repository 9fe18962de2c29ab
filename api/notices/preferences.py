"""A staff member's notice settings: per kind ``off | immediate | digest``, and the language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.notices.outbox import delivery_for
from models import Organization, User, utcnow
from models.notices import (
    PREFERENCE_KINDS,
    NoticePreference,
    NoticePreferencesIn,
    NoticePreferencesRead,
)
from models.organizations import Language


def language_for(
    pref: NoticePreference | None, org: Organization | None, user: User | None = None
) -> Language:
    """The mails' own language, else the staff member's, else the organization's."""
    if pref is not None and pref.language is not None:
        return Language(pref.language)
    if user is not None and user.language is not None:
        return Language(user.language)
    return Language(org.language) if org is not None else Language.nb


def read(session: Session, user: User) -> NoticePreferencesRead:
    pref = session.get(NoticePreference, user.id)
    org = session.get(Organization, user.organization_id)
    kinds = {str(k): delivery_for(pref, k) for k in PREFERENCE_KINDS}
    return NoticePreferencesRead(
        **kinds,
        language=Language(pref.language) if pref and pref.language else None,
        effective_language=language_for(pref, org, user),
        email=user.email,
    )


def write(session: Session, user: User, body: NoticePreferencesIn) -> NoticePreferencesRead:
    """The kinds sent are set; those left out keep their setting (a client that knows fewer
    kinds than the service cannot switch the others off by accident)."""
    sent = body.model_dump(exclude_unset=True)
    pref = session.get(NoticePreference, user.id)
    if pref is None:
        pref = NoticePreference(user_id=user.id, organization_id=user.organization_id)
        session.add(pref)
    kinds = dict(pref.kinds)
    for kind in PREFERENCE_KINDS:
        value = sent.get(str(kind))
        if value is not None:
            kinds[str(kind)] = str(value)
    pref.kinds = kinds  # a new dict, so the JSON column is seen as changed
    if "language" in sent:
        pref.language = Language(sent["language"]) if sent["language"] is not None else None
    pref.updated_at = utcnow()
    session.flush()
    return read(session, user)
