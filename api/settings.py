"""Settings from the environment (prefix ``SAFEWALK_``), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEWALK_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    # Empty means: SQLite + SpatiaLite at <data_dir>/safewalk.db
    database_url: str = ""
    # The table owner, for migrations and the CLI; empty: database_url. On PostgreSQL the
    # service itself should connect as a role that does not own the tables (api/core/tenancy.py).
    owner_database_url: str = ""
    # A role the service becomes on every connection (SET ROLE), e.g. safewalk_app, when its
    # login may act as both; empty: the login's own role.
    database_role: str = ""
    # Connections per process. Requests that wait past the timeout for one answer 503 with
    # Retry-After (api/core/errors.py): overload is told to the client, not queued for half a minute.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    media_dir: Path | None = None
    # Empty means: generate once and keep it in <data_dir>/secret_key (never a hard-coded default)
    secret_key: str = ""
    token_issuer: str = "safewalk"
    token_audience: str = "safewalk-api"
    access_token_minutes: int = Field(default=12 * 60, ge=1)
    page_size_max: int = Field(default=1000, ge=1)
    photo_max_bytes: int = Field(default=15_000_000, ge=1)
    photo_max_pixels: int = Field(default=40_000_000, ge=1)
    reopen_grace_days: int = Field(default=90, ge=0)
    # Seconds between Open311 sync passes inside the service; 0 = off (run `safewalk open311-sync`).
    open311_sync_seconds: float = Field(default=0, ge=0)
    # Run `safewalk purge` (retention, orphaned files) once a day inside the service; of several
    # replicas, one runs it (api/jobs/purge.py). Off by default: nothing is deleted unasked.
    purge_daily: bool = False
    # How often each replica asks whether today's purge is due.
    purge_check_seconds: float = Field(default=900, gt=0)
    # The maps' basemap: an XYZ raster template (https://tile.example/{z}/{x}/{y}.png) or a
    # MapLibre style URL; empty: area, route and points on a plain background (no third-party
    # requests at all, which also keeps the tests offline).
    basemap_url: str = ""
    basemap_attribution: str = ""
    # The origin printed in join links and QR codes (e.g. http://192.168.1.20:8000); empty: the
    # address the server is reached at.
    public_url: str = ""
    # The web apps and their npm files (field/, node_modules/); empty: web/ beside the source.
    web_dir: Path | None = None
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDR networks).
    # Empty: the client's address is the socket's, whatever headers say.
    trusted_proxies: str = ""
    # An observation farther than this from its walk's area or route is refused (issue 10).
    walk_max_distance_m: float = Field(default=2000.0, gt=0)
    # --- operations (api/http, api/core/throttles.py, api/jobs) ---
    # Throttle hits: "database" (shared by every replica on the database) or "memory" (this
    # process only). SAFEWALK_REDIS_URL, when set, puts them in Redis instead.
    throttle_store: Literal["database", "memory"] = "database"
    redis_url: str = ""
    redis_prefix: str = "safewalk:"
    # /metrics: off (404), open, or token (Authorization: Bearer SAFEWALK_METRICS_TOKEN).
    metrics: Literal["off", "open", "token"] = "off"
    metrics_token: str = ""
    # Served over HTTPS (behind a TLS-terminating proxy): send Strict-Transport-Security.
    https: bool = False
    # Origins allowed to call the API from a browser (comma-separated); empty: CORS off.
    cors_origins: str = ""
    log_format: Literal["json", "text"] = "json"

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
