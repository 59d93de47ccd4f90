"""Erasure in a trained model: what it holds about a customer, and the model without them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.model import IdMap, TrainedModel


def held_about(model: TrainedModel, customer_id: str) -> dict[str, Any]:
    """What the model keeps of one customer: whether known, their vector, bias and chosen items."""
    if not model.knows(customer_id):
        return {"known": False}
    position = model.users.position(customer_id)
    vector = np.asarray(model.user_embeddings[position], dtype=np.float64)
    seen = model.seen_at_training(customer_id)
    return {
        "known": True,
        "embedding": [float(x) for x in vector],
        "embedding_norm": float(np.linalg.norm(vector)),
        "bias": float(model.user_biases[position]),
        "items_chosen": [] if seen is None else list(model.items.ids_at(seen.tolist())),
    }


def without_customers(model: TrainedModel, customer_ids: Collection[str]) -> TrainedModel:
    """The model with these customers' rows removed from its id map, embeddings and chosen items."""
    gone = model.users.known_positions(customer_ids)
    if not gone:
        return model
    keep = np.setdiff1d(np.arange(len(model.users)), np.fromiter(gone, dtype=np.int64))
    seen_indptr, seen_indices = model.seen_indptr, model.seen_indices
    if seen_indptr is not None and seen_indices is not None:
        seen = sp.csr_matrix(
            (np.ones(seen_indices.size), seen_indices, seen_indptr),
            shape=(len(model.users), len(model.items)),
        )[keep]
        seen_indptr = seen.indptr.astype(seen_indptr.dtype)
        seen_indices = seen.indices.astype(seen_indices.dtype)
    return replace(
        model,
        users=IdMap(model.users.ids_at(keep.tolist())),
        user_embeddings=model.user_embeddings[keep],
        user_biases=model.user_biases[keep],
        seen_indptr=seen_indptr,
        seen_indices=seen_indices,
    )
