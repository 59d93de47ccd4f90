"""Fixtures of privacy tests: the scored shop of the treatment tests, whose customers have values."""

from tests.service.treatment.conftest import rescore, scored, shop, signals

__all__ = ["rescore", "scored", "shop", "signals"]
