"""Word lists per language for the bench generator: realistic text without downloads.

Each language has adjectives, nouns (products), verbs and fillers; ``sentence`` builds
a plausible sentence from them. Lowercase ASCII ``slug_words`` (English) feed handles
and slugs, whose format is ``^[a-z0-9]+(-[a-z0-9]+)*$``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    fillers: tuple[str, ...]
    topics: tuple[str, ...]


VOCABULARIES: dict[str, Vocabulary] = {
    "en": Vocabulary(
        ("organic", "cotton", "linen", "woollen", "classic", "slim", "warm", "light", "vintage", "soft", "sturdy",
         "striped", "heavy", "summer", "winter", "handmade", "recycled", "waterproof", "compact", "elegant"),
        ("shirt", "hoodie", "jacket", "sock", "mug", "scarf", "sweater", "trousers", "cap", "bag", "dress", "coat",
         "lamp", "blanket", "backpack", "kettle", "teapot", "notebook", "pillow", "towel"),
        ("keeps", "fits", "carries", "brightens", "protects", "suits", "completes", "warms", "holds", "refreshes"),
        ("every day", "on long trips", "in the office", "at home", "in any weather", "for years", "with ease",
         "after every wash", "on cold evenings", "in the garden"),
        ("care guide", "new collection", "spring sale", "behind the seams", "our workshop", "shipping update",
         "size advice", "material story", "customer favourites", "gift ideas"),
    ),
    "de": Vocabulary(
        ("bio", "baumwollene", "leinene", "wollene", "klassische", "schmale", "warme", "leichte", "weiche",
         "gestreifte", "robuste", "sommerliche", "winterliche", "handgemachte", "wasserdichte", "elegante"),
        ("Hemd", "Kapuzenpullover", "Jacke", "Socke", "Tasse", "Schal", "Pullover", "Hose", "Tasche", "Kleid",
         "Mantel", "Lampe", "Decke", "Rucksack", "Wasserkocher", "Kissen", "Handtuch"),
        ("hält", "passt", "trägt", "schützt", "wärmt", "begleitet", "ergänzt", "erfrischt"),
        ("jeden Tag", "auf langen Reisen", "im Büro", "zu Hause", "bei jedem Wetter", "viele Jahre",
         "nach jeder Wäsche", "an kalten Abenden", "im Garten"),
        ("Pflegehinweise", "neue Kollektion", "Frühjahrsangebot", "unsere Werkstatt", "Versandinfo",
         "Größenberatung", "Materialkunde", "Geschenkideen"),
    ),
    "ru": Vocabulary(
        ("органический", "хлопковый", "льняной", "шерстяной", "классический", "тёплый", "лёгкий", "мягкий",
         "летний", "зимний", "прочный", "полосатый", "водонепроницаемый", "элегантный", "компактный"),
        ("свитер", "шарф", "плащ", "рюкзак", "чайник", "блокнот", "плед", "костюм", "жакет", "фонарь",
         "халат", "кошелёк", "ремень", "джемпер"),
        ("согревает", "защищает", "подходит", "дополняет", "освежает", "служит", "радует"),
        ("каждый день", "в долгих поездках", "в офисе", "дома", "в любую погоду", "много лет",
         "после каждой стирки", "холодными вечерами", "в саду"),
        ("уход за вещами", "новая коллекция", "весенняя распродажа", "наша мастерская", "доставка",
         "подбор размера", "о материалах", "идеи подарков"),
    ),
    "fr": Vocabulary(
        ("bio", "classique", "léger", "chaud", "doux", "robuste", "élégant", "rayé", "imperméable", "recyclé",
         "fait main", "compact", "estival", "hivernal"),
        ("pull", "foulard", "manteau", "sac", "bonnet", "pantalon", "chemisier", "coussin", "plaid", "carnet",
         "théière", "sac à dos"),
        ("protège", "réchauffe", "accompagne", "complète", "rafraîchit", "convient"),
        ("chaque jour", "en voyage", "au bureau", "à la maison", "par tous les temps", "pendant des années",
         "au jardin"),
        ("conseils d'entretien", "nouvelle collection", "soldes de printemps", "notre atelier", "livraison",
         "guide des tailles", "idées cadeaux"),
    ),
    "es": Vocabulary(
        ("orgánico", "clásico", "ligero", "cálido", "suave", "resistente", "elegante", "rayado", "impermeable",
         "reciclado", "artesanal", "compacto", "veraniego", "invernal"),
        ("jersey", "bufanda", "abrigo", "bolso", "gorro", "pantalón", "camisa", "cojín", "manta", "cuaderno",
         "tetera", "mochila"),
        ("protege", "abriga", "acompaña", "completa", "refresca", "combina"),
        ("cada día", "en los viajes", "en la oficina", "en casa", "con cualquier clima", "durante años",
         "en el jardín"),
        ("guía de cuidado", "nueva colección", "rebajas de primavera", "nuestro taller", "envíos",
         "guía de tallas", "ideas de regalo"),
    ),
}

SLUG_WORDS = VOCABULARIES["en"]
COLORS = ("black", "white", "red", "blue", "green", "grey", "navy", "sand")
SIZES = ("XS", "S", "M", "L", "XL")
MATERIALS = ("cotton", "linen", "wool", "hemp", "silk")


def title(rng: random.Random, locale: str) -> str:
    words = VOCABULARIES[locale]
    adjective, noun = rng.choice(words.adjectives), rng.choice(words.nouns)
    return f"{adjective[0].upper()}{adjective[1:]} {noun}"


def sentence(rng: random.Random, locale: str) -> str:
    words = VOCABULARIES[locale]
    text = (f"{rng.choice(words.adjectives)} {rng.choice(words.nouns)} {rng.choice(words.verbs)} "
            f"{rng.choice(words.fillers)}")
    return f"{text[0].upper()}{text[1:]}."


def paragraph(rng: random.Random, locale: str, sentences: int) -> str:
    return " ".join(sentence(rng, locale) for _ in range(sentences))


def slug(rng: random.Random, number: int) -> str:
    """A unique slug: two English words and the number (slugs are unique per tenant)."""
    return f"{rng.choice(SLUG_WORDS.adjectives)}-{rng.choice(SLUG_WORDS.nouns)}-{number}"
