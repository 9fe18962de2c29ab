"""Per-organization observation taxonomy, with the defaults every new organization gets."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import ConfigDict, StringConstraints
from sqlalchemy import JSON, Boolean, Column, Float, UniqueConstraint, text, true
from sqlmodel import Field, SQLModel

from models.assets import ASSET_KIND_PATTERN
from models.base import NotNull, new_id
from models.organizations import LANGUAGES, Language


def pick_label(
    lang: Language | str, label_en: str, label_nb: str, other: Mapping[str, str] | None
) -> str:
    """The label in ``lang``, else English (an admin has not translated it yet)."""
    if lang == Language.nb and label_nb:
        return label_nb
    return (other or {}).get(str(lang)) or label_en


def all_labels(label_en: str, label_nb: str, other: Mapping[str, str] | None) -> dict[str, str]:
    """Every label there is, by language (English and Bokmål have columns of their own)."""
    found = {"en": label_en, "nb": label_nb, **(other or {})}
    return {lang.value: found[lang.value] for lang in LANGUAGES if found.get(lang.value)}


class Category(SQLModel, table=True):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    code: str = Field(max_length=40)
    label_en: str = Field(max_length=120)
    label_nb: str = Field(max_length=120)
    # Labels in the other languages (nn, sv, da, fi), by language code.
    other_labels: dict[str, str] | None = Field(
        default=None, sa_column=Column("labels", JSON(none_as_null=True), nullable=True)
    )
    default_department: str | None = Field(default=None, max_length=64)
    # Observations of the same category closer than this are one fixable thing.
    group_distance_m: float = 30.0
    actionable: bool = True
    # Sensitive categories are never published and may be location-blurred.
    sensitive: bool = False
    # Items of published categories appear in the public follow-up (never sensitive ones).
    published: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=true())
    )
    sort_order: int = 0
    # Observations of this category name an asset of this kind (a lamp for "lighting"): the
    # participant's choice, else the nearest in service within ``asset_snap_m``.
    asset_kind: str | None = Field(default=None, max_length=32)
    asset_snap_m: float = Field(
        default=15.0, sa_column=Column(Float, nullable=False, server_default=text("15"))
    )

    def label(self, lang: Language | str) -> str:
        return pick_label(lang, self.label_en, self.label_nb, self.other_labels)

    @property
    def labels(self) -> dict[str, str]:
        return all_labels(self.label_en, self.label_nb, self.other_labels)

    @property
    def missing_labels(self) -> list[str]:
        return [lang.value for lang in LANGUAGES if lang.value not in self.labels]


@dataclass(frozen=True)
class DefaultCategory:
    code: str
    label_en: str
    label_nb: str
    department: str | None
    distance_m: float
    actionable: bool
    sensitive: bool = False
    # nn, sv, da, fi, in that order (filled in below, so the table above stays readable).
    others: tuple[str, str, str, str] = field(default=("", "", "", ""))

    @property
    def other_labels(self) -> dict[str, str]:
        return dict(zip(("nn", "sv", "da", "fi"), self.others, strict=True))

    @property
    def published(self) -> bool:
        return not self.sensitive


# Codes are part of the public contract; labels and departments are ours.
DEFAULT_CATEGORIES: tuple[DefaultCategory, ...] = (
    DefaultCategory("lighting", "Poor lighting", "Dårlig belysning", "lighting", 35, True),
    DefaultCategory(
        "vegetation", "Overgrown vegetation", "Gjengrodd vegetasjon", "parks", 25, True
    ),
    DefaultCategory("sightlines", "Blocked sightlines", "Dårlig oversikt", "parks", 25, True),
    DefaultCategory("walkway", "Walkway or path defect", "Skade på gangvei", "roads", 30, True),
    DefaultCategory(
        "damaged_fixture",
        "Damaged fence or fixture",
        "Skadet gjerde eller inventar",
        "property",
        20,
        True,
    ),
    DefaultCategory(
        "graffiti", "Graffiti or vandalism", "Tagging eller hærverk", "property", 20, True
    ),
    DefaultCategory(
        "litter", "Litter or dumping", "Søppel eller forsøpling", "sanitation", 25, True
    ),
    DefaultCategory("wayfinding", "Poor wayfinding", "Dårlig skilting", "roads", 30, True),
    DefaultCategory("traffic", "Traffic hazard", "Trafikkfare", "roads", 40, True),
    DefaultCategory(
        "transit_stop", "Transit stop problem", "Problem ved holdeplass", "transit", 30, True
    ),
    DefaultCategory(
        "security_presence",
        "Lack of guardians or presence",
        "Mangel på tilsyn",
        "safety",
        40,
        True,
    ),
    DefaultCategory("isolation", "Isolated place", "Isolert sted", None, 40, False),
    DefaultCategory("feels_unsafe", "Feels unsafe", "Føles utrygt", None, 40, False),
    DefaultCategory("incident", "Incident experienced", "Opplevd hendelse", None, 40, False, True),
    DefaultCategory("positive_place", "Positive place", "Trygt og godt sted", None, 40, False),
)
_OTHER_LABELS: dict[str, tuple[str, str, str, str]] = {
    "lighting": ("Dårleg belysning", "Dålig belysning", "Dårlig belysning", "Huono valaistus"),
    "vegetation": (
        "Attgrodd vegetasjon",
        "Igenväxt vegetation",
        "Tilgroet beplantning",
        "Umpeenkasvanut kasvillisuus",
    ),
    "sightlines": ("Dårleg oversikt", "Skymd sikt", "Dårligt udsyn", "Huono näkyvyys"),
    "walkway": ("Skade på gangveg", "Skada på gångväg", "Skade på gangsti", "Vaurio kävelytiessä"),
    "damaged_fixture": (
        "Skadd gjerde eller inventar",
        "Skadat staket eller inventarie",
        "Beskadiget hegn eller inventar",
        "Vaurioitunut aita tai kaluste",
    ),
    "graffiti": (
        "Tagging eller hærverk",
        "Klotter eller skadegörelse",
        "Graffiti eller hærværk",
        "Töhryt tai ilkivalta",
    ),
    "litter": (
        "Søppel eller forsøpling",
        "Skräp eller nedskräpning",
        "Affald eller henkastet affald",
        "Roskat tai jätteet",
    ),
    "wayfinding": ("Dårleg skilting", "Dålig skyltning", "Dårlig skiltning", "Huono opastus"),
    "traffic": ("Trafikkfare", "Trafikfara", "Trafikfare", "Liikennevaara"),
    "transit_stop": (
        "Problem ved haldeplass",
        "Problem vid hållplats",
        "Problem ved stoppested",
        "Ongelma pysäkillä",
    ),
    "security_presence": (
        "Mangel på tilsyn",
        "Brist på vuxennärvaro",
        "Mangel på tilsyn",
        "Valvonnan puute",
    ),
    "isolation": ("Isolert stad", "Avskild plats", "Isoleret sted", "Syrjäinen paikka"),
    "feels_unsafe": ("Kjennest utrygt", "Känns otryggt", "Føles utrygt", "Tuntuu turvattomalta"),
    "incident": ("Opplevd hending", "Upplevd händelse", "Oplevet hændelse", "Koettu tapahtuma"),
    "positive_place": (
        "Trygg og god stad",
        "Tryggt och bra ställe",
        "Trygt og godt sted",
        "Turvallinen ja hyvä paikka",
    ),
}
DEFAULT_CATEGORIES = tuple(
    DefaultCategory(**{**d.__dict__, "others": _OTHER_LABELS[d.code]}) for d in DEFAULT_CATEGORIES
)


# --- API schemas -------------------------------------------------------------------------

# Grouping distances outside this range either split one dark path into several items or merge
# separate problems into one (API.md).
MIN_GROUP_DISTANCE_M = 15.0
MAX_GROUP_DISTANCE_M = 40.0
# Codes are identifiers clients and exports rely on: lowercase snake_case, like the defaults.
CATEGORY_CODE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class CategoryCreate(SQLModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[assignment]

    code: Annotated[str, StringConstraints(pattern=CATEGORY_CODE_PATTERN)]
    # One label per language; English is required (here or as the older label_en).
    labels: dict[Language, Label] | None = None
    label_en: str | None = Field(default=None, min_length=1, max_length=120)
    label_nb: str | None = Field(default=None, min_length=1, max_length=120)
    default_department: str | None = Field(default=None, min_length=1, max_length=64)
    group_distance_m: float = Field(default=30.0, ge=MIN_GROUP_DISTANCE_M, le=MAX_GROUP_DISTANCE_M)
    actionable: bool = True
    sensitive: bool = False
    published: bool | None = None  # default: published unless sensitive
    asset_kind: Annotated[str, StringConstraints(pattern=ASSET_KIND_PATTERN)] | None = None
    asset_snap_m: float = Field(default=15.0, ge=0, le=100)


class CategoryUpdate(SQLModel):
    """What an admin may change on a category; the code stays (clients and exports use it)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[assignment]

    # Only the default department may be cleared: an explicit null elsewhere is a 422 naming
    # the field, never a NULL written into a NOT NULL column.
    label_en: Annotated[str | None, NotNull] = Field(default=None, min_length=1, max_length=120)
    label_nb: Annotated[str | None, NotNull] = Field(default=None, min_length=1, max_length=120)
    # Every label the category has: a language left out loses its label (English stays).
    labels: Annotated[dict[Language, Label] | None, NotNull] = None
    default_department: str | None = Field(default=None, min_length=1, max_length=64)
    group_distance_m: Annotated[float | None, NotNull] = Field(
        default=None, ge=MIN_GROUP_DISTANCE_M, le=MAX_GROUP_DISTANCE_M
    )
    actionable: Annotated[bool | None, NotNull] = None
    published: Annotated[bool | None, NotNull] = None
    sensitive: Annotated[bool | None, NotNull] = None
    asset_kind: Annotated[str, StringConstraints(pattern=ASSET_KIND_PATTERN)] | None = None
    asset_snap_m: Annotated[float | None, NotNull] = Field(default=None, ge=0, le=100)


class CategoryRead(SQLModel):
    id: uuid.UUID
    code: str
    # By language; the languages without a label are in missing_labels.
    labels: dict[str, str]
    missing_labels: list[str]
    label_en: str
    label_nb: str
    default_department: str | None
    group_distance_m: float
    actionable: bool
    sensitive: bool
    published: bool
    sort_order: int
    asset_kind: str | None = None
    asset_snap_m: float = 15.0
