"""Content documents (pages, posts, topics) built from hand-made change events."""

from __future__ import annotations

from pipelines.core import Projector

from .builders import Stream
from .docs import by_locale, emitted_ids, run


def test_a_post_carries_title_slug_excerpt_body_text_author_category_and_tags(
    projector: Projector, stream: Stream
) -> None:
    t = stream.tenant(locales=("en", "de"))
    author = stream.user(t, "Erika Editor")
    news = str(stream.create("content_categories", tenant_id=t, slug="news")["id"])
    stream.create("content_category_translations", tenant_id=t, category_id=news, locale="en", name="News")
    stream.create("content_category_translations", tenant_id=t, category_id=news, locale="de", name="Neuigkeiten")
    post = stream.node(t, "post", {
        "en": ("Caring for linen", "caring-for-linen", "Wash **cold**.\n\n## Drying\n\nDry it [flat](https://x.example)."),
        "de": ("Leinen pflegen", "leinen-pflegen", "Kalt *waschen*."),
    }, author_id=author, category_id=news)
    care = stream.tag(t, "care", "Care", table="content_tags")
    stream.create("node_tags", tenant_id=t, node_id=post, tag_id=care)
    docs = by_locale(run(projector, stream.events), post)
    en, de = docs["en"], docs["de"]
    assert (en.kind, en.status, en.title, en.slug, en.excerpt) == (
        "post", "published", "Caring for linen", "caring-for-linen", "Wash **cold**.")
    assert en.body_text == "Wash cold.\nDrying\nDry it flat."
    assert en.body_format == "markdown"
    assert (de.title, de.slug, de.body_text) == ("Leinen pflegen", "leinen-pflegen", "Kalt waschen.")
    assert (en.author_name, en.author and en.author.display_name) == ("Erika Editor", "Erika Editor")
    assert (en.category_name, de.category_name) == ("News", "Neuigkeiten")
    assert en.category is not None and en.category.slug == "news"
    assert (en.tags, en.tag_slugs) == (["Care"], ["care"])


def test_html_bodies_are_reduced_to_their_words(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    page = stream.node(t, "page", {"en": ("About", "about", "<h1>About &amp; us</h1><p>We make <b>shirts</b>.</p>"
                                                              "<script>track()</script>")}, body_format="html")
    doc = by_locale(run(projector, stream.events), page)["en"]
    assert doc.body_text == "About & us\nWe make shirts."
    assert doc.body_format == "html"


def test_comments_and_replies_are_not_documents_but_count_on_their_root(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    topic = stream.node(t, "topic", {"en": ("Sizing?", "sizing", "Does the tee run small?")})
    first = stream.reply(t, topic, kind="reply")
    stream.reply(t, topic, kind="reply", parent=first, depth=2)
    stream.reply(t, topic, kind="reply", status="draft", published_at=None)
    stream.create("node_bodies", tenant_id=t, node_id=first, locale="en", body="It runs true to size.")
    emissions = run(projector, stream.events)
    assert emitted_ids(emissions) == {topic}
    assert by_locale(emissions, topic)["en"].reply_count == 2


def test_a_deleted_reply_lowers_the_count(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    post = stream.node(t, "post", {"en": ("Hello", "hello", "Hi")})
    comment = stream.reply(t, post)
    run(projector, stream.events)
    stream.events.clear()
    stream.delete("nodes", comment)
    assert by_locale(run(projector, stream.events), post)["en"].reply_count == 0


def test_a_page_without_translation_or_body_still_has_documents(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en", "de"))
    page = stream.node(t, "page", {}, status="draft", published_at=None)
    docs = by_locale(run(projector, stream.events), page)
    assert {loc: (d.title, d.slug, d.body_text, d.resolved_locale, d.status) for loc, d in docs.items()} == {
        "en": (None, None, None, "en", "draft"), "de": (None, None, None, "en", "draft")}


def test_flex_entries_attached_to_a_node_appear_under_flex(projector: Projector, stream: Stream) -> None:
    t = stream.tenant(locales=("en",))
    post = stream.node(t, "post", {"en": ("Hello", "hello", "Hi")})
    stream.flex(t, "seo", "node", post, {"canonical": "/hello"})
    assert by_locale(run(projector, stream.events), post)["en"].flex == {"seo": {"canonical": "/hello"}}
