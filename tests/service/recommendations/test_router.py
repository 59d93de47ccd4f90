"""Serving over HTTP: filters, consent, cold start, inactive items, similar items, isolation, errors."""

from __future__ import annotations

from collections import Counter

import pytest

from recommender.datasets import bookstore_like


def ids(answer: dict) -> list[str]:
    """The recommended item ids."""
    return [item["item_id"] for item in answer["items"]]


def bought(shop, customer: str) -> set[str]:
    """The items a customer has events on."""
    return set(shop.log.item_ids[shop.log.customer_ids == customer].tolist())


def test_seen_items_are_left_out_unless_asked(bookstore) -> None:
    answer = bookstore.recommend("c5", k=50)
    assert len(answer["items"]) == 50 and not set(ids(answer)) & bought(bookstore, "c5")
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    everything = bookstore.recommend("c5", k=50, exclude_seen="false")
    assert set(ids(everything)) & bought(bookstore, "c5")


def test_an_item_chosen_after_training_is_left_out_at_once(bookstore, make_key) -> None:
    top = ids(bookstore.recommend("c5", k=3))
    event = {"event_id": "late-1", "customer_id": "c5", "type": "purchase", "item_id": top[0]}
    event["occurred_at"] = "2027-01-01T00:00:00Z"
    crm = make_key("crm", bookstore.tenant)
    assert bookstore.client.post("/v1/events", json={"events": [event]}, headers=crm).status_code == 200
    after = ids(bookstore.recommend("c5", k=3))
    assert top[0] not in after and after[:2] == top[1:]


def test_excluded_items_comma_separated_or_repeated(bookstore) -> None:
    top = ids(bookstore.recommend("c5", k=4))
    answer = bookstore.recommend("c5", k=4, exclude=[f"{top[0]},{top[1]}", top[2]])
    assert not set(ids(answer)) & set(top[:3]) and top[3] in ids(answer)


def test_attribute_filters(bookstore) -> None:
    answer = bookstore.recommend("c5", k=20, filter="genre:g2")
    assert len(answer["items"]) == 20 and bookstore.share_with(answer["items"], "genre=g2") == 1.0
    either = bookstore.recommend("c5", k=100, filter=["genre:g2", "genre:g3"])
    genres = Counter(t for i in ids(either) for t in bookstore.log.item_features[i] if t.startswith("genre="))
    assert set(genres) == {"genre=g2", "genre=g3"}
    author = bookstore.log.item_features[ids(answer)[0]][1]
    both = bookstore.recommend("c5", filter=["genre:g2", author.replace("=", ":")])
    assert both["items"] and all(author in bookstore.log.item_features[i] for i in ids(both))
    assert bookstore.recommend("c5", filter="genre:nope")["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"k": 0}, "query.k"),
        ({"k": 101}, "query.k"),
        ({"k": "ten"}, "query.k"),
        ({"exclude_seen": "maybe"}, "query.exclude_seen"),
        ({"filter": "genre"}, "query.filter"),
        ({"filter": "genre:"}, "query.filter"),
        ({"filter": "colour:red"}, "query.filter"),
    ],
)
def test_bad_parameters_are_problems_naming_the_field(bookstore, params: dict, field: str) -> None:
    response = bookstore.get("/v1/customers/c5/recommendations", **params)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_without_consent_the_popular_list_serves_and_says_so(bookstore) -> None:
    answer = bookstore.recommend("c1")
    assert answer["strategy"] == "popular" and "not consented" in answer["reason"]
    assert ids(answer) == ids(bookstore.recommend("nobody-known"))


def test_unknown_customers_get_the_popular_list(bookstore) -> None:
    answer = bookstore.recommend("anonymous-visitor", k=5)
    assert answer["strategy"] == "popular" and answer["reason"].startswith("Unknown customer")
    assert len(answer["items"]) == 5 and answer["model_version"] == bookstore.version


def test_cold_start_folds_in_stated_preferences(open_shop) -> None:
    log = bookstore_like(seed=3)
    genre_of: dict[str, Counter[str]] = {c: Counter() for c in set(log.customer_ids.tolist())}
    for customer, item in zip(log.customer_ids.tolist(), log.item_ids.tolist(), strict=True):
        genre_of[customer].update(t for t in log.item_features[item] if t.startswith("genre="))
    stated = {c: {counts.most_common(1)[0][0]: 1.0} for c, counts in genre_of.items()}
    shop = open_shop(
        log, preferences={**stated, "newcomer": {"genre=g4": 1.0}, "stranger": {"mood=odd": 1.0}}
    )
    answer = shop.recommend("newcomer", k=10)
    assert answer["strategy"] == "cold-start" and "stated preferences" in answer["reason"]
    assert shop.share_with(answer["items"], "genre=g4") >= 0.8
    features = shop.get(f"/v1/models/{shop.version}", "marketer").json()["features"]
    assert features["user_features"] == 10
    unknown_taste = shop.recommend("stranger")
    assert unknown_taste["strategy"] in ("segment", "popular") and "cold start" in unknown_taste["reason"]


def test_deactivated_items_vanish_at_once(bookstore) -> None:
    top = ids(bookstore.recommend("c5", k=5))
    neighbours = [i["item_id"] for i in bookstore.get("/v1/items/b0/similar", k=5).json()["items"]]
    popular = ids(bookstore.recommend("anonymous", k=3))
    bookstore.deactivate([top[0], top[1], neighbours[0], popular[0]])
    after = ids(bookstore.recommend("c5", k=5))
    assert top[0] not in after and top[1] not in after and after[:3] == top[2:]
    assert popular[0] not in ids(bookstore.recommend("anonymous", k=3))
    similar = bookstore.get("/v1/items/b0/similar", k=5).json()
    assert neighbours[0] not in [i["item_id"] for i in similar["items"]] and len(similar["items"]) == 5
    for item in (top[0], top[1], popular[0]):
        assert item not in ids(bookstore.recommend("c5", k=100, exclude_seen="false"))


def test_similar_items(bookstore) -> None:
    response = bookstore.get("/v1/items/b0/similar", k=3)
    assert response.status_code == 200
    body = response.json()
    assert body["item_id"] == "b0" and body["model_version"] == bookstore.version
    assert len(body["items"]) == 3 and "b0" not in [i["item_id"] for i in body["items"]]
    missing = bookstore.get("/v1/items/no-such-book/similar")
    assert missing.status_code == 404 and "no-such-book" in missing.json()["detail"]
    assert bookstore.get("/v1/items/b0/similar", k=0).json()["errors"][0]["field"] == "query.k"


def test_no_model_yet_is_a_clear_conflict(open_shop) -> None:
    shop = open_shop(bookstore_like(seed=1, customers=20), publish=False)
    response = shop.get("/v1/customers/c1/recommendations")
    assert response.status_code == 409 and "POST /v1/models/runs" in response.json()["detail"]
    assert shop.get("/v1/items/b1/similar").status_code == 409


def test_tenants_are_isolated(bookstore, make_key) -> None:
    other = make_key("storefront", "globex")
    other_marketer = make_key("marketer", "globex")
    client = bookstore.client
    assert client.get("/v1/customers/c5/recommendations", headers=other).status_code == 409
    assert client.get(f"/v1/models/{bookstore.version}", headers=other_marketer).status_code == 404
    assert client.get("/v1/models", headers=other_marketer).json()["items"] == []
    run_id = bookstore.get("/v1/models/runs", "marketer").json()["items"][0]["id"]
    assert client.get(f"/v1/models/runs/{run_id}", headers=other_marketer).status_code == 404


def test_roles_of_serving(bookstore, make_key) -> None:
    crm = make_key("crm")
    assert bookstore.client.get("/v1/customers/c5/recommendations", headers=crm).status_code == 403
    assert bookstore.client.get("/v1/customers/c5/recommendations").status_code == 401
    assert bookstore.get("/v1/customers/c5/recommendations", "marketer").status_code == 403
    admin = make_key("admin")
    assert bookstore.client.get("/v1/items/b0/similar", headers=admin).status_code == 200


def test_ping_names_the_caller(bookstore) -> None:
    assert bookstore.get("/v1/ping").json() == {"tenant": 1, "role": "storefront"}
    assert bookstore.client.get("/v1/ping").status_code == 401


def test_items_deactivated_through_the_catalog_sync_vanish_at_once(bookstore) -> None:
    top = ids(bookstore.recommend("c5", k=3))
    rows = [
        {
            "item_id": item,
            "attributes": dict(t.split("=", 1) for t in bookstore.log.item_features[item]),
            "active": False,
        }
        for item in top[:2]
    ]
    synced = bookstore.client.post("/v1/sync/items", json=rows, headers=bookstore.storefront)
    assert synced.status_code == 200 and synced.json()["updated"] == 2, synced.text
    assert ids(bookstore.recommend("c5", k=3))[0] == top[2]
