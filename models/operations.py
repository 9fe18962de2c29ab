"""Rows that running the service needs beyond the domain: throttle hits shared by replicas."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, Index, Integer, String
from sqlmodel import Field, SQLModel


class ThrottleHit(SQLModel, table=True):
    """One counted event (a wrong join code, a failed sign-in) of one throttle bucket and key.

    Times are seconds since the epoch: every replica reads the same wall clock (NTP), where a
    monotonic clock means nothing outside its own process. ``expires_at`` lets one sweep remove
    rows of every window at once.
    """

    __tablename__ = "throttle_hit"
    __table_args__ = (
        Index("ix_throttle_hit_bucket_key_at", "bucket", "key", "at"),
        Index("ix_throttle_hit_expires_at", "expires_at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    bucket: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(400), nullable=False))
    at: float = Field(sa_column=Column(Double, nullable=False))
    expires_at: float = Field(sa_column=Column(Double, nullable=False))
