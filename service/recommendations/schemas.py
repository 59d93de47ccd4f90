"""Response models of recommendations (the hot paths serialize plain dicts shaped like these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ModelVersionPublic(BaseModel):
    """A trained model version: what it learnt from, how it did on the time split, what serves."""

    id: int
    run_id: int
    serving: bool = Field(description="Whether this is the tenant's newest version, the one served.")
    strategy: str = Field(description="What the gate lets customers get: one-to-one, segment or popular.")
    reason: str
    gate: dict[str, Any] = Field(description="The gate's figures: hit rates, lift and delta hit@10 with CIs.")
    metrics: dict[str, Any] = Field(
        description="precision@10, recall@10 and NDCG@10 of the model, segment and popular lists."
    )
    features: dict[str, Any] = Field(description="Item attributes and stated preferences used as features.")
    params: dict[str, Any] = Field(description="LightFM hyperparameters and bootstrap rounds.")
    created_at: datetime


class ScoredItem(BaseModel):
    """One recommended item and its score on the serving path's scale."""

    item_id: str
    score: float


class Recommendations(BaseModel):
    """Items to show, best first, with the path that served them and why."""

    items: list[ScoredItem]
    strategy: Literal["one-to-one", "segment", "popular", "cold-start"] = Field(
        description="one-to-one: the customer's own ranking; cold-start: folded in from stated "
        "preferences; segment: popular in the customer's `segment` trait; popular: popular overall."
    )
    reason: str
    model_version: int
    experiment: dict[str, Any] | None = Field(
        default=None, description="`{id, arm}` when a running holdout experiment decides what is served."
    )


class SimilarItems(BaseModel):
    """Items nearest to one item by the model's item embeddings (cosine)."""

    item_id: str
    items: list[ScoredItem]
    model_version: int


class Ping(BaseModel):
    """Who is calling: the cheapest authenticated answer."""

    tenant: int
    role: str
