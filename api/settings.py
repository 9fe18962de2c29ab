"""Settings from the environment (prefix ``SAFEWALK_``), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEWALK_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    # Empty means: SQLite + SpatiaLite at <data_dir>/safewalk.db
    database_url: str = ""
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
    # The staff web's basemap: an XYZ raster template (https://…/{z}/{x}/{y}.png) or a MapLibre
    # style URL (….json). Empty: layers on a plain background, and no outside origin in the CSP.
    basemap_url: str = ""
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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'safewalk.db').as_posix()}"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"


@lru_cache
def get_settings() -> Settings:
    return Settings()
