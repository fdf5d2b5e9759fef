"""The word being typed matches as a prefix on Tantivy, whichever way the prefix is looked up:
listed from the term dictionary (a few longer words), or by the automaton (a prefix under
three letters, or more longer words than are worth listing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from search_api.app import create_app
from search_api.settings import SearchSettings
from tests.integration.search_api.catalog import Catalog, product
from tests.integration.search_api.conftest import handles

P = "/v1/products/search"


@pytest.fixture(scope="module")
def client(search_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    catalog = Catalog(search_db_url, Path(tmp_path_factory.mktemp("prefix-index")))
    shop, other = catalog.tenant("prefix-shop", locales=("en",)), catalog.tenant("prefix-other", locales=("en",))
    # Twenty words starting "gizmo": more than are listed, so "gizm" goes to the automaton.
    docs = [product(shop, f"gizmo-{i}", f"Gizmo{i} Lamp", published_days=i) for i in range(20)]
    docs += [product(shop, "plain-lamp", "Plain Lamp"), product(shop, "lampshade", "Lampshade Kit"),
             product(other, "other-lampshade", "Lampshade Deluxe")]
    catalog.publish(docs)
    settings = SearchSettings(database_url=SecretStr(search_db_url), index_dir=catalog.index_root,
                              rate_limit_per_second=1000.0, rate_limit_burst=1000)
    with TestClient(create_app(settings)) as api:
        api.headers["Authorization"] = f"Bearer {catalog.key(shop, 'search_public')}"
        yield api


def _search(client: TestClient, q: str) -> list[str]:
    return handles(client.get(P, params={"q": q, "limit": 100}))


def test_a_word_typed_in_full_also_matches_the_longer_words_it_starts(client: TestClient) -> None:
    found = _search(client, "lamp")
    assert set(found) == {f"gizmo-{i}" for i in range(20)} | {"plain-lamp", "lampshade"}
    assert found[-1] == "lampshade"  # the word itself outranks a longer word it starts (it matches both ways)
    assert _search(client, "lampsh") == ["lampshade"]  # the other tenant's lampshade stays out


def test_a_prefix_with_many_longer_words_matches_them_all(client: TestClient) -> None:
    assert set(_search(client, "gizm")) == {f"gizmo-{i}" for i in range(20)}
    found = _search(client, "gizmo1")  # eleven words start "gizmo1"; one typo away, "gizmo2" matches too
    assert found[0] == "gizmo-1" and {f"gizmo-{i}" for i in range(10, 20)} <= set(found)


def test_a_prefix_of_one_or_two_letters_matches_as_well(client: TestClient) -> None:
    assert set(_search(client, "plain l")) == {"plain-lamp"}
    assert set(_search(client, "pl")) == {"plain-lamp"}


def test_a_finished_word_does_not_match_as_a_prefix(client: TestClient) -> None:
    assert _search(client, "lampsh ") == []


def test_a_prefix_asked_again_after_a_commit_finds_the_new_words(search_db_url: str, tmp_path: Path) -> None:
    """The backend keeps a request's text query (its listed words) per index generation:
    a word committed since is found the next time the same prefix is typed."""
    from contracts.locale import Locale
    from search_api.backends.base import Scope, parsed
    from search_api.backends.tantivy import TantivyBackend
    from search_api.query import parse_product_search

    catalog = Catalog(search_db_url, tmp_path)
    shop = catalog.tenant("prefix-commit", locales=("en",))
    catalog.publish([product(shop, "lantern", "Lantern")])
    backend = TantivyBackend(tmp_path, lambda _: 1)
    request = parse_product_search({"q": ["lant"], "facets": ["tag"]})

    def found() -> set[str]:
        return {parsed(h.document)["handle"] for h in backend.search(Scope(shop.id, Locale("en")), request).hits}

    assert found() == {"lantern"}
    catalog.publish([product(shop, "lanthanum-lamp", "Lanthanum Lamp")])
    assert found() == {"lantern", "lanthanum-lamp"}
    backend.close()
