"""Hash assignment: the documented recipe, golden buckets, other processes, uniformity and arm shares."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from recommender.experiments.assignment import BUCKETS, arm_of_bucket, assign, bucket_of, canonical_key

GOLDEN = [
    (("1", "genre-2024", "c-7"), 1057),
    (("1", "genre-2024", "c-8"), 158),
    (("acme", "salt", "customer-42"), 5361),
    (("2", "s", "ü-5"), 7037),
]


def test_canonical_key_is_a_netstring_of_utf8_parts() -> None:
    """Each part is its byte length, a colon, its UTF-8 bytes and a comma."""
    assert canonical_key("2", "s", "ü-5") == b"1:2,1:s,4:\xc3\xbc-5,"
    assert canonical_key("a,1:b", "", "c") != canonical_key("a", "b", "c")


def test_golden_buckets_follow_the_documented_recipe() -> None:
    """Pinned buckets, and the same as sha256 -> first 8 bytes big-endian -> mod 10,000 recomputed here."""
    for (tenant, salt, customer), bucket in GOLDEN:
        key = canonical_key(tenant, salt, customer)
        recomputed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 10_000
        assert bucket_of(tenant, salt, customer) == bucket == recomputed


def test_same_bucket_in_another_process_with_another_hash_seed() -> None:
    """A fresh interpreter with a different PYTHONHASHSEED computes the same buckets."""
    code = (
        "from recommender.experiments.assignment import bucket_of\n"
        "print(bucket_of('1', 'genre-2024', 'c-7'), bucket_of('acme', 'salt', 'customer-42'))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1057", "5361"]


@pytest.mark.slow
def test_buckets_are_uniform() -> None:
    """200,000 customers over 10,000 buckets pass a chi-square uniformity test."""
    buckets = np.array([bucket_of("7", "exp-salt", f"c-{i}") for i in range(200_000)])
    counts = np.bincount(buckets, minlength=BUCKETS)
    assert stats.chisquare(counts).pvalue > 0.001
    holdout = np.mean(buckets < 1_000)
    assert abs(holdout - 0.1) < 0.003


def test_salts_give_independent_assignments() -> None:
    """Two experiments' holdouts overlap about as much as independent 10% draws would (1%)."""
    ids = [f"c-{i}" for i in range(50_000)]
    first = np.array([assign("7", "salt-a", c, 0.1) == "holdout" for c in ids])
    second = np.array([assign("7", "salt-b", c, 0.1) == "holdout" for c in ids])
    assert abs(np.mean(first & second) - 0.01) < 0.002


def test_bucket_to_arm_boundary() -> None:
    """Buckets below round(share * 10,000) are the holdout."""
    assert arm_of_bucket(999, 0.1) == "holdout"
    assert arm_of_bucket(1_000, 0.1) == "treatment"
    assert arm_of_bucket(0, 0.0001) == "holdout"
    assert arm_of_bucket(1, 0.0001) == "treatment"
