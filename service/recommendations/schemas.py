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
    strategy: str = Field(
        description="The path the gate chose: repeat, blend, one-to-one, segment or popular "
        "(versions trained before remembering: the last three only)."
    )
    reason: str
    gate: dict[str, Any] = Field(
        description="The gate's choice (`path`, `exclude_seen`, `reason`), every candidate list's "
        "precision, recall and hit rate at 10 on all held-out choices (`candidates`, repeats included), "
        "the comparisons with CIs, and the discovery gate on new items (`discovery`, `strategy`)."
    )
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


class ServedItem(ScoredItem):
    """A recommended item and why it is there."""

    reason: str = Field(
        description="`bought 5 times, last 12 days ago` (remembered), `customers with your taste bought "
        "it` (discovery), `popular in your segment` or `popular`."
    )


class Recommendations(BaseModel):
    """Items to show, best first, with the path that served them and why."""

    items: list[ServedItem]
    strategy: Literal["one-to-one", "segment", "popular", "cold-start"] = Field(
        description="one-to-one: the customer's own ranking (their remembered items included); "
        "cold-start: folded in from stated preferences; segment: popular in the customer's `segment` "
        "trait; popular: popular overall."
    )
    path: Literal["repeat", "blend", "one-to-one", "segment", "popular"] = Field(
        description="repeat: the customer's own items by purchase frequency and recency, then new ones; "
        "blend: their staples with discovery slots; one-to-one: the discovery model; segment; popular."
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
