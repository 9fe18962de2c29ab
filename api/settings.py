"""Settings from the environment (prefix ``SAFEWALK_``), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Every field is one environment variable, ``SAFEWALK_`` + its name in capitals. The
    descriptions are the operator's documentation: ``make docs`` writes docs/configuration.md
    from them, and a test fails when that page and this class disagree."""

    model_config = SettingsConfigDict(env_prefix="SAFEWALK_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="Outside `development` the service refuses to start with a weak "
        "`SAFEWALK_SECRET_KEY` (shorter than 32 characters, or a well-known value). In "
        "`production` it also refuses to serve as a PostgreSQL role that row-level security "
        "does not hold (see `SAFEWALK_DATABASE_ROLE`).",
    )
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Where the SQLite database, the generated secret key and (by default) the "
        "photos live; a relative path starts at the working directory. The Docker image sets "
        "`/data`.",
    )
    database_url: str = Field(
        default="",
        description="The service's database connection. Empty: SQLite + SpatiaLite at "
        "`<data dir>/safewalk.db`. For PostgreSQL + PostGIS: "
        "`postgresql+psycopg://user:password@host:5432/db`, as the app role that owns no table "
        "(see [Database roles](operations.md#database-roles)).",
    )
    owner_database_url: str = Field(
        default="",
        description="The tables' owner, used by `safewalk migrate`, the other CLI commands and "
        "the schema upgrade `serve` runs before it listens. Empty: `SAFEWALK_DATABASE_URL`.",
    )
    database_role: str = Field(
        default="",
        description="The role the service acts as on PostgreSQL. Empty (the default): "
        "`safewalk_app` whenever the login may become it (a member of it, or a superuser), "
        "through `SET ROLE` on every connection, so the tenant wall holds even when the service "
        "is given the owner's or a superuser's URL; otherwise the login's own role. A role name: "
        "every connection becomes that role. `none`: the login's own role, whatever it is (an "
        "opt-out for development; in `production` the service refuses to start when its role "
        "is a superuser, bypasses row-level security or owns the tables). The CLI commands "
        "always run as the owner (`SAFEWALK_OWNER_DATABASE_URL`).",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="Database connections kept per server process. Keep workers × (pool size + "
        "overflow) under PostgreSQL's `max_connections`.",
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Connections a process may open beyond the pool size under load.",
    )
    db_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request waits for a free connection; past that it answers "
        "503 `busy` with `Retry-After`, so overload is told to the client instead of queued.",
    )
    media_dir: Path | None = Field(
        default=None,
        description="Where photos are stored, by content hash; never served as static files. "
        "Unset: `<data dir>/media`. Several replicas need one shared volume here.",
    )
    secret_key: str = Field(
        default="",
        description="The key that signs tokens and photo links. Empty: one is generated once "
        "and kept in `<data dir>/secret_key` (mode 600). Several replicas need the same key.",
    )
    token_issuer: str = Field(
        default="safewalk",
        description="The `iss` claim written into and required of every token.",
    )
    token_audience: str = Field(
        default="safewalk-api",
        description="The `aud` claim written into and required of every token.",
    )
    access_token_minutes: int = Field(
        default=12 * 60,
        ge=1,
        description="Lifetime of a staff sign-in token, in minutes.",
    )
    page_size_max: int = Field(
        default=1000,
        ge=1,
        description="The largest `limit` a list route accepts; a larger one is clamped to it.",
    )
    photo_max_bytes: int = Field(
        default=15_000_000,
        ge=1,
        description="The largest photo upload, in bytes; checked before anything is decoded.",
    )
    photo_max_pixels: int = Field(
        default=40_000_000,
        ge=1,
        description="The most pixels a photo may have; checked from the header before decoding, "
        "so a decompression bomb is refused in milliseconds.",
    )
    reopen_grace_days: int = Field(
        default=90,
        ge=0,
        description="A new observation near a resolved action item reopens it within this many "
        "days of its resolution; later, it starts a new item linked as a recurrence.",
    )
    open311_sync_seconds: float = Field(
        default=0,
        ge=0,
        description="Seconds between Open311 sync passes inside the service. 0: off; run "
        "`safewalk open311-sync` from cron instead.",
    )
    purge_daily: bool = Field(
        default=False,
        description="`1`: the service applies retention (`safewalk purge`) once a day; of "
        "several replicas exactly one runs it. Off by default: nothing is deleted unasked.",
    )
    purge_check_seconds: float = Field(
        default=900,
        gt=0,
        description="How often each replica asks whether the day's purge is due.",
    )
    basemap_url: str = Field(
        default="",
        description="A remote basemap, used where no file was imported with `safewalk basemap "
        "import`: an XYZ raster template (`https://tile.example/{z}/{x}/{y}.png`) or a MapLibre "
        "style URL (`….json`). Its origin is the only one the Content-Security-Policy adds; a "
        "URL that is not absolute http(s) refuses to start. Empty: no outside origin at all.",
    )
    basemap_attribution: str = Field(
        default="",
        description="The remote basemap's attribution, shown on every map that draws it.",
    )
    public_url: str = Field(
        default="",
        description="The origin printed in join links and QR codes, e.g. "
        "`https://walks.example.org`. Empty: the address the request came to (the join sheet) "
        "or the one `serve` listens on, with this machine's LAN address for `0.0.0.0` (the "
        "link the demo prints).",
    )
    web_dir: Path | None = Field(
        default=None,
        description="Where the web apps (`field/`, `staff/`) and the npm files they serve "
        "(`node_modules/`) are. Unset: `web/` beside the source; the Docker image sets it.",
    )
    locale_dir: Path | None = Field(
        default=None,
        description="Where the gettext catalogues are (`<lang>/LC_MESSAGES/<domain>.po`). "
        "Unset: `locale/` beside the source; the Docker image sets it.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Reverse proxies whose `X-Forwarded-For` is believed, as comma-separated "
        "addresses or CIDR networks, e.g. `10.0.0.0/8,192.168.1.5`; the client is then the "
        "nearest hop that is not one of them. Empty: the socket's address counts, whatever "
        "the headers say. `serve --trusted-proxies` sets the same.",
    )
    walk_max_distance_m: float = Field(
        default=2000.0,
        gt=0,
        description="An observation farther than this many metres from its walk's area or "
        "planned route is refused (a 422 naming `location`).",
    )
    throttle_store: Literal["database", "memory"] = Field(
        default="database",
        description="Where throttle hits (wrong join codes, failed sign-ins) are counted: "
        "`database`, shared by every replica, or `memory`, this process only.",
    )
    redis_url: str = Field(
        default="",
        description="Count throttle hits in Redis instead, e.g. `redis://10.0.0.9:6379/0`; "
        "set, it wins over `SAFEWALK_THROTTLE_STORE`.",
    )
    redis_prefix: str = Field(
        default="safewalk:",
        description="The prefix of safewalk's keys in Redis.",
    )
    metrics: Literal["off", "open", "token"] = Field(
        default="off",
        description="`/metrics` in Prometheus' format: `off` (404), `open` (keep it on an "
        "internal network) or `token` (`Authorization: Bearer` with "
        "`SAFEWALK_METRICS_TOKEN`).",
    )
    metrics_token: str = Field(
        default="",
        description="The bearer token `/metrics` asks for when `SAFEWALK_METRICS=token`; 16 "
        "characters or more, else the service refuses to start.",
    )
    https: bool = Field(
        default=False,
        description="`1` when served over HTTPS (behind a TLS-terminating proxy): responses "
        "carry `Strict-Transport-Security`.",
    )
    cors_origins: str = Field(
        default="",
        description="Browser origins allowed to call the API, comma-separated. Empty: CORS "
        "off. Tokens are bearer headers, never cookies.",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="`serve` logs one JSON object per line (`json`) or plain lines for a "
        "terminal (`text`).",
    )

    # --- notices (api/notices, api/jobs/notify.py) ---
    smtp_url: str = Field(
        default="",
        description="The mail server for notices to staff: `smtp://host:25`, "
        "`smtps://user:password@host:465` (TLS from the start) or "
        "`smtp+starttls://user:password@host:587`; user and password percent-encoded. Empty: "
        "no mail leaves, and waiting notices are given up after three days.",
    )
    mail_from: str = Field(
        default="safewalk <safewalk@localhost>",
        description="The sender of notice mails (`From:`), e.g. `Safewalk <safewalk@kommune.no>`.",
    )
    notify_seconds: float = Field(
        default=30,
        ge=0,
        description="How often the sender inside `serve` looks for mail and webhook deliveries "
        "to send (one replica at a time); a failed one is tried again within two such periods, "
        "then with growing pauses. 0: off (run `safewalk notify` instead).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="`1`: webhook and outbound Open311 URLs may point at loopback, link-local "
        "and private addresses (on-premises receivers, tests). Off, such a URL is refused with "
        "a 422 naming `url` when it is saved, and again at every delivery.",
    )
    digest_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="The hour (in the organization's time zone) after which the daily digest "
        "of notices goes out.",
    )

    @field_validator("basemap_url")
    @classmethod
    def _basemap_url_is_loadable(cls, value: str) -> str:
        value = value.strip()
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname or "{" in parts.netloc:
                raise ValueError(
                    "SAFEWALK_BASEMAP_URL must be an absolute http(s) URL with one host (an XYZ "
                    f"template or a style URL), not {value!r}"
                )
        return value

    @property
    def basemap_origin(self) -> str | None:
        """The scheme://host[:port] the browser fetches the remote basemap from."""
        if not self.basemap_url:
            return None
        parts = urlsplit(self.basemap_url)
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _metrics_token_is_set(self) -> Settings:
        if self.metrics == "token" and len(self.metrics_token) < 16:
            raise ValueError(
                "SAFEWALK_METRICS=token needs SAFEWALK_METRICS_TOKEN (16 characters or more)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'safewalk.db').as_posix()}"

    @property
    def resolved_owner_database_url(self) -> str:
        return self.owner_database_url or self.resolved_database_url

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"


@lru_cache
def get_settings() -> Settings:
    return Settings()
