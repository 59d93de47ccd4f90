"""LightFM behind fit and scoring on external ids, with a pickle-free artifact for serving."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommender.topk import top_k

ARTIFACT_VERSION = 2
_SCORING_CHUNK = 1024

ProgressCallback = Callable[[int, int], None]


# Past this many ids, positions() searches in numpy instead of looking each id up in a dict.
ARRAY_LOOKUP = 64


class IdMap:
    """External ids (strings without NUL) and their internal positions, in sorted order."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = np.asarray(list(ids), dtype=str)
        self._ids = self.ids.tolist()
        self._positions = {value: position for position, value in enumerate(self._ids)}
        if len(self._positions) != self.ids.size:
            raise ValueError("ids must be unique")
        self._search: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, *id_groups: Iterable[str]) -> IdMap:
        """The sorted union of the given ids."""
        values: set[str] = set()
        for group in id_groups:
            if isinstance(group, np.ndarray):  # an event column: each distinct id converted once
                values.update(np.unique(group.astype(str)).tolist())
            else:
                values.update(str(value) for value in group)
        return cls(sorted(values))

    def __len__(self) -> int:
        return int(self.ids.size)

    def __contains__(self, external_id: object) -> bool:
        return external_id in self._positions

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and np.array_equal(self.ids, other.ids)

    __hash__ = None  # type: ignore[assignment]

    def position(self, external_id: str) -> int:
        """The internal position of one external id (KeyError when unknown)."""
        return self._positions[external_id]

    def positions(self, external_ids: Iterable[str]) -> np.ndarray:
        """Internal positions of external ids, -1 where unknown."""
        if isinstance(external_ids, np.ndarray) and external_ids.size > ARRAY_LOOKUP:
            return self._array_positions(external_ids.astype(str))
        return np.fromiter((self._positions.get(str(value), -1) for value in external_ids), dtype=np.int64)

    def _array_positions(self, wanted: np.ndarray) -> np.ndarray:
        """positions() of a long array, by binary search over the ids in order, in numpy."""
        if self._search is None:
            order = np.argsort(self.ids, kind="stable")
            self._search = self.ids[order], order
        ordered, order = self._search
        if ordered.size == 0:
            return np.full(wanted.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(ordered, wanted), ordered.size - 1)
        return np.where(ordered[at] == wanted, order[at], -1).astype(np.int64)

    def known_positions(self, external_ids: Iterable[str]) -> set[int]:
        """The positions of those external ids that are known (plain Python: cheap for a request's few)."""
        found = (self._positions.get(value) for value in external_ids)
        return {position for position in found if position is not None}

    def ids_at(self, positions: Iterable[int]) -> tuple[str, ...]:
        """The external ids at internal positions."""
        ids = self._ids
        return tuple(ids[position] for position in positions)


@dataclass(frozen=True)
class Hyperparameters:
    """LightFM training settings."""

    loss: str = "warp"
    no_components: int = 32
    epochs: int = 30
    learning_rate: float = 0.05
    item_alpha: float = 0.0
    user_alpha: float = 0.0
    max_sampled: int = 10
    random_state: int = 0
    num_threads: int = 1


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """Plain-numpy LightFM representations keyed by external ids; serving needs no lightfm."""

    users: IdMap
    items: IdMap
    user_embeddings: np.ndarray
    user_biases: np.ndarray
    item_embeddings: np.ndarray
    item_biases: np.ndarray
    preferences: IdMap
    preference_embeddings: np.ndarray
    preference_biases: np.ndarray
    seen_indptr: np.ndarray | None = None
    seen_indices: np.ndarray | None = None

    def knows(self, customer_id: str) -> bool:
        """Whether the customer had events at training time."""
        return customer_id in self.users

    def seen_at_training(self, customer_id: str) -> np.ndarray | None:
        """Positions of the items a known customer chose in the training events (None: not kept)."""
        if self.seen_indptr is None or self.seen_indices is None or customer_id not in self.users:
            return None
        position = self.users.position(customer_id)
        return self.seen_indices[self.seen_indptr[position] : self.seen_indptr[position + 1]]

    def score_user(self, customer_id: str) -> np.ndarray:
        """LightFM's prediction for a known customer over all items (KeyError when unknown)."""
        position = self.users.position(customer_id)
        return self.score_vector(self.user_embeddings[position], self.user_biases[position])

    def score_users(self, customer_ids: Sequence[str]) -> np.ndarray:
        """Predictions for known customers, one row per customer (KeyError when unknown)."""
        positions = np.array([self.users.position(c) for c in customer_ids], dtype=np.int64)
        rows = []
        for start in range(0, positions.size, _SCORING_CHUNK):
            chunk = positions[start : start + _SCORING_CHUNK]
            rows.append(
                self.user_embeddings[chunk] @ self.item_embeddings.T
                + self.item_biases
                + self.user_biases[chunk, None]
            )
        return np.vstack(rows) if rows else np.empty((0, len(self.items)), dtype=np.float32)

    def fold_in(self, preferences: Mapping[str, float]) -> np.ndarray | None:
        """A user vector from stated preferences alone (None if no preference is known)."""
        folded = self._fold_in(preferences)
        return None if folded is None else folded[0]

    def score_preferences(self, preferences: Mapping[str, float]) -> np.ndarray | None:
        """Scores over all items for a customer known only by stated preferences."""
        folded = self._fold_in(preferences)
        return None if folded is None else self.score_vector(*folded)

    def score_vector(self, user_vector: np.ndarray, user_bias: float = 0.0) -> np.ndarray:
        """Scores over all items for a user vector."""
        return self.item_embeddings @ user_vector + self.item_biases + user_bias

    def similar_items(self, item_id: str, k: int) -> list[tuple[str, float]]:
        """The k items nearest by cosine over item embeddings, with their similarity."""
        position = self.items.position(item_id)
        similarity = self._unit_item_embeddings @ self._unit_item_embeddings[position]
        similarity[position] = -np.inf
        order = top_k(similarity, min(k, len(self.items) - 1)).tolist()
        return [(str(self.items.ids[i]), float(similarity[i])) for i in order]

    def save(self) -> bytes:
        """The model as npz bytes (no pickled objects)."""
        arrays = {
            "artifact_version": np.array(ARTIFACT_VERSION),
            "users": self.users.ids,
            "items": self.items.ids,
            "preferences": self.preferences.ids,
            "user_embeddings": self.user_embeddings,
            "user_biases": self.user_biases,
            "item_embeddings": self.item_embeddings,
            "item_biases": self.item_biases,
            "preference_embeddings": self.preference_embeddings,
            "preference_biases": self.preference_biases,
        }
        if self.seen_indptr is not None and self.seen_indices is not None:
            arrays.update(seen_indptr=self.seen_indptr, seen_indices=self.seen_indices)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def load(cls, data: bytes) -> TrainedModel:
        """A model from bytes written by save() (version 1 kept no seen items)."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            version = int(stored["artifact_version"])
            if version not in (1, ARTIFACT_VERSION):
                raise ValueError(f"unsupported model artifact version {version}")
            return cls(
                users=IdMap(stored["users"].tolist()),
                items=IdMap(stored["items"].tolist()),
                preferences=IdMap(stored["preferences"].tolist()),
                user_embeddings=stored["user_embeddings"],
                user_biases=stored["user_biases"],
                item_embeddings=stored["item_embeddings"],
                item_biases=stored["item_biases"],
                preference_embeddings=stored["preference_embeddings"],
                preference_biases=stored["preference_biases"],
                seen_indptr=stored.get("seen_indptr"),
                seen_indices=stored.get("seen_indices"),
            )

    @cached_property
    def _unit_item_embeddings(self) -> np.ndarray:
        norms = np.linalg.norm(self.item_embeddings, axis=1, keepdims=True)
        return self.item_embeddings / np.where(norms > 0, norms, 1.0)

    def _fold_in(self, preferences: Mapping[str, float]) -> tuple[np.ndarray, float] | None:
        known = [
            (self.preferences.position(f), w)
            for f, w in preferences.items()
            if f in self.preferences and w != 0
        ]
        if not known:
            return None
        positions = np.array([p for p, _ in known], dtype=np.int64)
        weights = np.array([w for _, w in known], dtype=np.float32)
        weights /= np.abs(weights).sum()
        vector = weights @ self.preference_embeddings[positions]
        return vector, float(weights @ self.preference_biases[positions])


def fit(
    customer_ids: ArrayLike,
    item_ids: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    item_features: Mapping[str, Sequence[str]] | None = None,
    user_features: Mapping[str, Mapping[str, float]] | None = None,
    hyperparameters: Hyperparameters = Hyperparameters(),
    progress: ProgressCallback | None = None,
) -> TrainedModel:
    """Train LightFM on events given by external ids; customers without events are folded in later."""
    from lightfm import LightFM  # here, so that loading and serving a model never needs lightfm

    customers = np.asarray(customer_ids).astype(str)
    items_chosen = np.asarray(item_ids).astype(str)
    if customers.shape != items_chosen.shape or customers.size == 0:
        raise ValueError("customer_ids and item_ids must be non-empty and of equal length")
    users = IdMap.of(customers)
    items = IdMap.of(items_chosen, item_features or {})
    interactions = _interaction_matrix(users, items, customers, items_chosen, weights)
    item_matrix = _item_feature_matrix(items, interactions, item_features)
    preferences, user_matrix = _user_feature_matrix(users, user_features)

    model = LightFM(
        no_components=hyperparameters.no_components,
        loss=hyperparameters.loss,
        learning_rate=hyperparameters.learning_rate,
        item_alpha=hyperparameters.item_alpha,
        user_alpha=hyperparameters.user_alpha,
        max_sampled=hyperparameters.max_sampled,
        random_state=hyperparameters.random_state,
    )
    binary = interactions.copy()
    binary.data = np.ones_like(binary.data)
    sample_weight = None if np.all(interactions.data == 1.0) else interactions
    for epoch in range(hyperparameters.epochs):
        model.fit_partial(
            binary,
            user_features=user_matrix,
            item_features=item_matrix,
            sample_weight=sample_weight,
            epochs=1,
            num_threads=hyperparameters.num_threads,
        )
        if progress is not None:
            progress(epoch + 1, hyperparameters.epochs)

    item_biases, item_embeddings = model.get_item_representations(item_matrix)
    user_biases, user_embeddings = model.get_user_representations(user_matrix)
    seen = _seen_matrix(users, items, customers, items_chosen)
    return TrainedModel(
        users=users,
        items=items,
        user_embeddings=user_embeddings,
        user_biases=user_biases,
        item_embeddings=item_embeddings,
        item_biases=item_biases,
        preferences=preferences,
        preference_embeddings=model.user_embeddings[len(users) :],
        preference_biases=model.user_biases[len(users) :],
        seen_indptr=seen.indptr.astype(np.int64),
        seen_indices=seen.indices.astype(np.int32),
    )


def _seen_matrix(
    users: IdMap, items: IdMap, customers: np.ndarray, items_chosen: np.ndarray
) -> sp.csr_matrix:
    """Which items each customer chose in the events, whatever the weight (CSR, sorted positions)."""
    rows, columns = users.positions(customers), items.positions(items_chosen)
    ones = np.ones(rows.size, dtype=np.int8)
    seen = sp.csr_matrix((ones, (rows, columns)), shape=(len(users), len(items)))
    seen.sum_duplicates()
    return seen


def _interaction_matrix(
    users: IdMap,
    items: IdMap,
    customers: np.ndarray,
    items_chosen: np.ndarray,
    weights: ArrayLike | None,
) -> sp.coo_matrix:
    """Summed positive event weights per (customer, item)."""
    values = (
        np.ones(customers.size, dtype=np.float32)
        if weights is None
        else np.asarray(weights, dtype=np.float32)
    )
    if values.shape != customers.shape:
        raise ValueError("weights must match the events")
    matrix = sp.csr_matrix(
        (values, (users.positions(customers), items.positions(items_chosen))),
        shape=(len(users), len(items)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.data[matrix.data < 0] = 0
    matrix.eliminate_zeros()
    if matrix.nnz == 0:
        raise ValueError("no event with a positive weight")
    return matrix.tocoo()


def _item_feature_matrix(
    items: IdMap, interactions: sp.coo_matrix, item_features: Mapping[str, Sequence[str]] | None
) -> sp.csr_matrix | None:
    """Identity (for items with events) plus attribute features, rows summing to one."""
    if not item_features:
        return None
    attributes = IdMap.of(*item_features.values())
    rows, columns = [], []
    for position in np.unique(interactions.col):
        rows.append(int(position))
        columns.append(int(position))
    for item_id, features in item_features.items():
        for feature in set(features):
            rows.append(items.position(str(item_id)))
            columns.append(len(items) + attributes.position(str(feature)))
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)),
        shape=(len(items), len(items) + len(attributes)),
    )
    return _normalized_rows(matrix)


def _user_feature_matrix(
    users: IdMap, user_features: Mapping[str, Mapping[str, float]] | None
) -> tuple[IdMap, sp.csr_matrix | None]:
    """Identity plus stated-preference features for customers with events, rows summing to one."""
    known = {str(c): prefs for c, prefs in (user_features or {}).items() if str(c) in users}
    preferences = IdMap.of(*(prefs.keys() for prefs in known.values()))
    if len(preferences) == 0:
        return preferences, None
    rows = list(range(len(users)))
    columns = list(range(len(users)))
    values = [1.0] * len(users)
    for customer_id, prefs in known.items():
        for feature, weight in prefs.items():
            rows.append(users.position(customer_id))
            columns.append(len(users) + preferences.position(str(feature)))
            values.append(float(weight))
    matrix = sp.csr_matrix(
        (np.array(values, dtype=np.float32), (rows, columns)),
        shape=(len(users), len(users) + len(preferences)),
    )
    return preferences, _normalized_rows(matrix)


def _normalized_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit L1 norm, as lightfm.data.Dataset does by default."""
    matrix.sum_duplicates()
    norms = np.asarray(abs(matrix).sum(axis=1)).ravel()
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ matrix, dtype=np.float32)
