"""RusToK search API for storefronts (FastAPI, separate from the write API).

Run: ``uvicorn --factory search_api.app:app_from_environment`` with ``RUSTOK_SEARCH_*``
settings (``search_api.settings``). Every route is under ``/v1`` and needs a search key
(``Authorization: Bearer rtk_pub_...`` or ``X-Search-Key``) or a host mapped to a
tenant; the tenant is never taken from a parameter.

Routes:
  GET  /v1/products/search   q, locale, category, tag, vendor, product_type, currency,
                             price_min, price_max (minor units), in_stock, option.<name>,
                             facets (category, tag, vendor, product_type, in_stock,
                             option.<name>), facet_size, sort (relevance, price_asc,
                             price_desc, newest, title), limit, offset | cursor,
                             highlight, status (admin keys only), min_version
  GET  /v1/products/facets   the same filters; totals and facet counts only
  GET  /v1/products/{handle} locale, status, min_version
  GET  /v1/content/search    q, locale, kind (page, post, topic), category, tag, author
                             (user id), published_from, published_to, facets (kind,
                             category, tag, author), sort (relevance, newest, title), ...
  GET  /v1/content/facets
  GET  /v1/content/{kind}/{slug}
  GET  /v1/suggest           q, type (products | content), locale, limit (1-20)
  POST /v1/multi-search      {"queries": [{"type": "products", "params": {...}}, ...]}

Semantics: values of one filter are alternatives, filters combine with AND; a facet's
counts ignore its own filter. Locale: the requested tag if the tenant enables it, else
its language, else the tenant default (the answer's ``locale``). Without ``q`` the
default sort is newest. Ties are broken by id. ``min_version`` past the bound answers
200 with ``"stale": true`` and ``RusToK-Stale: true`` (``stale_mode=flag``, default) or
503 ``stale_read`` (``stale_mode=error``). Errors are ``application/problem+json``.
"""
