"""Deterministic hash assignment of customers to 10,000 buckets and from buckets to arms."""

from __future__ import annotations

import hashlib
from typing import Literal

BUCKETS = 10_000

Arm = Literal["treatment", "holdout"]


def canonical_key(tenant_id: str, salt: str, customer_external_id: str) -> bytes:
    """The netstring encoding of (tenant, salt, customer): b'<len>:<utf-8 bytes>,' for each part."""
    parts = (tenant_id, salt, customer_external_id)
    return b"".join(b"%d:%s," % (len(raw), raw) for raw in (part.encode("utf-8") for part in parts))


def bucket_of(tenant_id: str, salt: str, customer_external_id: str) -> int:
    """The bucket 0..9,999: the first 8 bytes of sha256(canonical key), big-endian, modulo 10,000."""
    digest = hashlib.sha256(canonical_key(tenant_id, salt, customer_external_id)).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def holdout_buckets(holdout_share: float) -> int:
    """How many buckets (the lowest ones) form the holdout for a share strictly between 0 and 1."""
    if not 0.0 < holdout_share < 1.0:
        raise ValueError(f"holdout_share must be strictly between 0 and 1, got {holdout_share}")
    return round(holdout_share * BUCKETS)


def arm_of_bucket(bucket: int, holdout_share: float) -> Arm:
    """The arm of a bucket: holdout below round(share * 10,000), treatment from there on."""
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"bucket must be in 0..{BUCKETS - 1}, got {bucket}")
    return "holdout" if bucket < holdout_buckets(holdout_share) else "treatment"


def assign(tenant_id: str, salt: str, customer_external_id: str, holdout_share: float) -> Arm:
    """The arm of a customer in an experiment, recomputable anywhere with nothing stored."""
    return arm_of_bucket(bucket_of(tenant_id, salt, customer_external_id), holdout_share)
