"""HTTP routes under /v1: each parses, calls the service, and renders. No logic here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from search_api.errors import InvalidQuery, QueryTooLarge
from search_api.query import (ContentKind, Limits, Params, SearchRequest, is_whole_number, parse_content_search,
                             parse_product_search)
from search_api.service import Answer, SearchService
from search_api.settings import SearchSettings
from search_api.tenancy import Authenticator, Principal

router = APIRouter(prefix="/v1", tags=["search"])
_MAX_QUERY_STRING = 8192
_MAX_BODY = 64 * 1024
_KINDS: tuple[ContentKind, ...] = ("page", "post", "topic")


# Routes are async and take the caller here, on the event loop; the key lookup goes to a
# thread only on a cache miss. (Dependencies resolved by FastAPI cost about 0.3 ms of a 5 ms
# search; a sync route adds a thread round trip.) A search that needs no database round trip
# runs on the loop too (``_answered``); anything else goes to a worker thread.
async def principal(request: Request) -> Principal:
    state = request.app.state
    if len(request.scope.get("query_string", b"")) > _MAX_QUERY_STRING:
        raise QueryTooLarge.at("query", f"the query string exceeds {_MAX_QUERY_STRING} bytes")
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-search-key")
    client = request.client.host if request.client else "unknown"
    host = request.headers.get("host")
    authenticator: Authenticator = state.authenticator
    who = authenticator.cached(key, host, client)
    if who is None:
        who = await run_in_threadpool(authenticator.authenticate, key, host, client)
    state.limiter.take(who.bucket)
    return who


def _service(request: Request) -> SearchService:
    return request.app.state.service  # type: ignore[no-any-return]


async def _answered(request: Request, work: Callable[..., Answer], *args: Any,
                    searches: tuple[SearchRequest, ...] = ()) -> Response:
    """``work(*args)``, rendered: on a worker thread (it may read the database or wait for
    ``min_version``), or here when it only searches ``searches`` and each of them is answered
    from memory (``answer_on_event_loop``). Handing a 5 ms search to a thread costs wake-ups of
    idle cores, about 1 ms of it on an idle server (``bench/README.md``)."""
    settings: SearchSettings = request.app.state.settings
    if searches and settings.answer_on_event_loop and _service(request).immediate(*searches):
        return render(request, work(*args))
    return render(request, await run_in_threadpool(work, *args))


def _params(request: Request, drop: tuple[str, ...] = ()) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        _no_nul(key, value)
        if key not in drop:
            params.setdefault(key, []).append(value)
    return params


def _limits(request: Request) -> Limits:
    s: SearchSettings = request.app.state.settings
    return Limits(max_query_chars=s.max_query_chars, max_page_size=s.max_page_size, max_offset=s.max_offset,
                  max_filter_values=s.max_filter_values)


def render(request: Request, answer: Answer) -> Response:
    body = orjson.dumps(answer.body)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    s: SearchSettings = request.app.state.settings
    if answer.stale:
        cache = "no-store"
    elif answer.public:
        cache = f"public, max-age={s.cache_max_age_seconds}"
    else:
        cache = "private, no-cache"
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Authorization, X-Search-Key, Host"}
    if answer.stale:
        headers["RusToK-Stale"] = "true"
    if not answer.stale and etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/products/search")
async def search_products(request: Request) -> Response:
    who = await principal(request)
    parsed = parse_product_search(_params(request), _limits(request))
    return await _answered(request, _service(request).search, who, parsed, searches=(parsed,))


@router.get("/products/facets")
async def product_facets(request: Request) -> Response:
    who = await principal(request)
    parsed = parse_product_search({**_params(request), "limit": ["1"]}, _limits(request))
    return await _answered(request, _service(request).search, who, parsed, True, searches=(parsed,))


@router.get("/products/{handle}")
async def product_by_handle(handle: str, request: Request) -> Response:
    who = await principal(request)
    parsed = parse_product_search(_only(request, "locale", "status", "min_version"), _limits(request))
    return await _answered(request, _service(request).product, who, parsed, _bounded("handle", handle))


@router.get("/content/search")
async def search_content(request: Request) -> Response:
    who = await principal(request)
    parsed = parse_content_search(_params(request), _limits(request))
    return await _answered(request, _service(request).search, who, parsed, searches=(parsed,))


@router.get("/content/facets")
async def content_facets(request: Request) -> Response:
    who = await principal(request)
    parsed = parse_content_search({**_params(request), "limit": ["1"]}, _limits(request))
    return await _answered(request, _service(request).search, who, parsed, True, searches=(parsed,))


@router.get("/content/{kind}/{slug}")
async def content_by_slug(kind: ContentKind, slug: str, request: Request) -> Response:
    who = await principal(request)
    parsed = parse_content_search(_only(request, "locale", "status", "min_version"), _limits(request))
    return await _answered(request, _service(request).content, who, parsed, kind, _bounded("slug", slug))


@router.get("/suggest")
async def suggest(request: Request) -> Response:
    who = await principal(request)
    params = _params(request)
    target = (params.pop("type", None) or ["products"])[-1]
    limit = (params.pop("limit", None) or ["8"])[-1]
    if target not in ("products", "content"):
        raise InvalidQuery.at("type", "expected products or content")
    if not is_whole_number(limit) or not 1 <= int(limit) <= 20:
        raise InvalidQuery.at("limit", "must be between 1 and 20")
    parse = parse_product_search if target == "products" else parse_content_search
    parsed = parse({k: v for k, v in params.items() if k in ("q", "locale")}, _limits(request))
    return await _answered(request, _service(request).suggest, who, parsed, int(limit))


@router.post("/multi-search")
async def multi_search(request: Request) -> Response:
    who = await principal(request)
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise QueryTooLarge.at("body", f"at most {_MAX_BODY} bytes")
    parsed = _parse_multi(raw, _limits(request), request.app.state.settings.max_multi_queries)
    return await _answered(request, _service(request).search_many, who, parsed, searches=tuple(parsed))


def _parse_multi(raw: bytes, limits: Limits, max_queries: int) -> list[SearchRequest]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidQuery.at("body", "not JSON") from None
    queries = body.get("queries") if isinstance(body, dict) else None
    if not isinstance(queries, list) or not queries:
        raise InvalidQuery.at("queries", "expected a non-empty list of {\"type\": ..., \"params\": {...}}")
    if len(queries) > max_queries:
        raise QueryTooLarge.at("queries", f"at most {max_queries} queries")
    return [_parse_one(i, q, limits) for i, q in enumerate(queries)]


def _parse_one(index: int, query: Any, limits: Limits) -> SearchRequest:
    where = f"queries[{index}]"
    if not isinstance(query, dict) or query.get("type") not in ("products", "content"):
        raise InvalidQuery.at(f"{where}.type", "expected products or content")
    params = query.get("params", {})
    if not isinstance(params, dict):
        raise InvalidQuery.at(f"{where}.params", "expected an object")
    multi: Params = {str(k): [_scalar(f"{where}.params.{k}", x) for x in (v if isinstance(v, list) else [v])]
                     for k, v in params.items()}
    try:
        if query["type"] == "products":
            return parse_product_search(multi, limits)
        return parse_content_search(multi, limits)
    except InvalidQuery as error:
        error.errors = tuple(type(e)(f"{where}.params.{e.path}", e.message) for e in error.errors)
        raise


def _scalar(path: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return _no_nul(path, str(value))
    raise InvalidQuery.at(path, "expected a string, number or boolean")


def _only(request: Request, *names: str) -> Params:
    return {k: v for k, v in _params(request).items() if k in names}


def _no_nul(path: str, value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no handle, word or tag contains one.
    if "\x00" in value or "\x00" in path:
        raise InvalidQuery.at(path.replace("\x00", ""), "contains a NUL character")
    return value


def _bounded(name: str, value: str) -> str:
    _no_nul(name, value)
    if not value or len(value) > 128:
        raise InvalidQuery.at(name, "must be 1 to 128 characters")
    return value
