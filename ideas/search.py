"""Full-text search of ideas in Russian, Kyrgyz and English, the same on SQLite and PostgreSQL.

Stemming happens here, in Python, so both databases see the same tokens: `index_text` turns an
idea's text into space-separated stems stored in `Idea.search_text`, and `apply_search` matches
the stems of a query against them, each as a prefix. SQLite indexes the column with an FTS5
external-content table (`idea_fts`, kept in step by triggers); PostgreSQL with a GIN index on
`to_tsvector('simple', search_text)`. Both are created by migration 0002.

Only stems made here ever reach the database: they consist of letters and digits alone and are
quoted for each engine besides, so no query syntax typed by a user is ever interpreted.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, TypeVar

import snowballstemmer
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    column,
    func,
    literal,
    literal_column,
    table,
)
from sqlmodel import Session, col, select

from ideas.models import Idea

#: Tables and indexes the migrations create for search but the models do not describe.
SEARCH_TABLES = frozenset({"idea_fts", "idea_fts_data", "idea_fts_idx", "idea_fts_docsize",
                           "idea_fts_config", "idea_fts_content"})
SEARCH_INDEXES = frozenset({"ix_idea_search_text"})

MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 10
#: Longer tokens are cut: PostgreSQL refuses to index words over 2 KB, and nobody types them.
MAX_TOKEN_CHARS = 60
#: Shorter stems must match exactly; as prefixes they would match half the dictionary.
MIN_PREFIX_CHARS = 3

# Letters and digits; the underscore separates, as it does in both databases' tokenizers.
_TOKEN_RE = re.compile(r"[^\W_]+")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_LATIN_RE = re.compile(r"[a-z\u00c0-\u024f]")

# Words a query may contain that say nothing about what is sought. Only queries drop them:
# requiring "на" or "жана" in every hit would only lose ideas.
_STOP_WORDS = frozenset(
    "и в во на по с со к ко у о об от до для из за не но а или что как это же ли бы "
    "жана менен үчүн же бул ал эле деп да дагы ошол "
    "the a an of and or in on to for with at by is".split()
)

_KY_MIN_ROOT = 3

#: A citable reference, such as 2027-00003: searched as the reference, not as two numbers.
_REFERENCE_RE = re.compile(r"\s*#?(\d{4}-\d{1,8})\s*")


def _longest_first(endings: str) -> tuple[str, ...]:
    return tuple(sorted(set(endings.split()), key=len, reverse=True))


# Kyrgyz is agglutinative: root + plural + possessive + case, each slot at most once. Peeling
# them off in that order (rather than any ending, again and again) keeps roots that merely end
# like a suffix whole: "ооруканага" stops at "оорукана", not at "оор".
_KY_SLOTS = (
    _longest_first(  # case
        "га ге го гө ка ке ко кө на не а е "  # dative
        "да де до дө та те то тө нда нде "  # locative
        "дагы деги догу дөгү тагы теги тогу төгү ндагы ндеги "  # locative adjective
        "дан ден дон дөн тан тен тон төн нан нен "  # ablative
        "нын нин нун нүн дын дин дун дүн тын тин тун түн "  # genitive
        "ны ни ну нү ды ди ду дү ты ти ту тү "  # accusative
        "ын ин ун үн сын син сун сүн"  # accusative after the third person possessive
    ),
    _longest_first(  # possessive (third person also after rounded vowels: "жолу", "үйү")
        "ым им ум үм ың иң ы и у ү сы си су сү быз биз ыбыз ибиз"
    ),
    _longest_first("лар лер лор лөр дар дер дор дөр тар тер тор төр"),  # plural
)
_KY_VOWELS = frozenset("аеёиоөуүыэюя")
# A root's final п or к becomes б or г before a vowel: мектеп, мектеби; тарак, тарагы.
_KY_DEVOICE = {"б": "п", "г": "к"}


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Any:
    return snowballstemmer.stemmer(language)


def normalise(text: str) -> str:
    """Composed, case-folded text with ё written as е, as both index and queries see it."""
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def tokens(text: str) -> list[str]:
    return [t[:MAX_TOKEN_CHARS] for t in _TOKEN_RE.findall(normalise(text))]


def kyrgyz_stems(word: str) -> list[str]:
    """The root left after stripping Kyrgyz endings, and its undone voicing (б -> п, г -> к)."""
    stem, vowel_suffix = word, False
    for endings in _KY_SLOTS:
        for suffix in endings:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= _KY_MIN_ROOT:
                stem, vowel_suffix = stem[: -len(suffix)], suffix[0] in _KY_VOWELS
                break
    if vowel_suffix and stem[-1] in _KY_DEVOICE:
        return [stem, stem[:-1] + _KY_DEVOICE[stem[-1]]]
    return [stem]


def _russian_variants(stem: str) -> list[str]:
    """Stems the Russian stemmer does not join: the fleeting vowel of the genitive plural
    (велодорожек -> велодорожк, скамеек -> скамейк, дворец -> дворц) and a soft sign or й at
    the end (деревь -> дерев)."""
    variants = []
    if len(stem) >= 5 and stem[-1] in "кц" and stem[-2] in "ео":
        if stem[-3] in _KY_VOWELS:
            if stem[-2] == "е":
                variants.append(stem[:-2] + "й" + stem[-1])
        else:
            variants.append(stem[:-2] + stem[-1])
    if len(stem) >= 4 and stem[-1] in "ьй":
        variants.append(stem[:-1])
    return variants


def word_stems(token: str) -> list[str]:
    """Every form a normalised token is indexed and searched under, the token itself first."""
    if token.isdigit():
        return [token]
    forms = [token]
    if _CYRILLIC_RE.search(token):
        russian = _stemmer("russian").stemWord(token)
        forms += [russian, *_russian_variants(russian), *kyrgyz_stems(token)]
    elif _LATIN_RE.search(token):
        forms.append(_stemmer("english").stemWord(token))
    return list(dict.fromkeys(f for f in forms if f))


def index_text(*parts: str) -> str:
    """The text to store in `Idea.search_text`: every word of the parts with its stems, once."""
    seen: dict[str, None] = {}
    for part in parts:
        for token in tokens(part or ""):
            seen.update(dict.fromkeys(word_stems(token)))
    return " ".join(seen)


def _is_prefix(stem: str) -> bool:
    return len(stem) >= MIN_PREFIX_CHARS


def query_groups(q: str) -> list[list[str]]:
    """For each meaningful word of a query, the stems any of which may match (AND of ORs).

    Words shorter than two characters and common function words are dropped; at most
    MAX_QUERY_WORDS words of the first MAX_QUERY_CHARS characters count. A stem that another
    stem of the same word already matches as a prefix is left out.
    """
    groups: list[list[str]] = []
    for token in tokens((q or "")[:MAX_QUERY_CHARS]):
        if len(token) < 2 or token in _STOP_WORDS:
            continue
        stems = word_stems(token)
        group = [s for s in stems
                 if not any(o != s and _is_prefix(o) and s.startswith(o) for o in stems)]
        if group not in groups:
            groups.append(group)
        if len(groups) == MAX_QUERY_WORDS:
            break
    return groups


def fts5_expression(groups: list[list[str]]) -> str:
    """An FTS5 MATCH expression: `("велодорожк"*) AND ("жибек"* OR "жиб"*)`."""
    def term(stem: str) -> str:
        quoted = '"' + stem.replace('"', '""') + '"'
        return quoted + "*" if _is_prefix(stem) else quoted

    return " AND ".join("(" + " OR ".join(term(s) for s in g) + ")" for g in groups)


def tsquery_expression(groups: list[list[str]]) -> str:
    """A PostgreSQL to_tsquery expression: `('велодорожк':*) & ('жибек':* | 'жиб':*)`."""
    def term(stem: str) -> str:
        quoted = "'" + stem.replace("\\", "\\\\").replace("'", "''") + "'"
        return quoted + ":*" if _is_prefix(stem) else quoted

    return " & ".join("(" + " | ".join(term(s) for s in g) + ")" for g in groups)


_fts = table("idea_fts", column("rowid", Integer), column("idea_fts"))

S = TypeVar("S", bound=Select[Any])


def apply_search(stmt: S, dialect_name: str, q: str) -> S:
    """`stmt` narrowed to ideas matching every meaningful word of `q`, in any of its forms.

    A query without such words leaves `stmt` unchanged. Never raises for any `q`.
    """
    reference = _REFERENCE_RE.fullmatch(q[:MAX_QUERY_CHARS])
    if reference:
        return stmt.where(col(Idea.reference) == reference.group(1))
    groups = query_groups(q)
    if not groups:
        return stmt
    if dialect_name == "sqlite":
        matching = select(_fts.c.rowid).where(
            _fts.c.idea_fts.op("MATCH")(literal(fts5_expression(groups), String)))
        return stmt.where(col(Idea.id).in_(matching))
    if dialect_name == "postgresql":
        simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
        return stmt.where(
            func.to_tsvector(simple, col(Idea.search_text)).op("@@")(
                func.to_tsquery(simple, literal(tsquery_expression(groups), String))))
    raise NotImplementedError(f"no full-text search for {dialect_name}")


def reindex(session: Session) -> int:
    """Recompute `search_text` of every idea (after the stemming changes); returns how many
    changed. The caller commits."""
    changed = 0
    for idea in session.exec(select(Idea)):
        text = index_text(idea.title, idea.summary, idea.description, idea.address)
        if idea.search_text != text:
            idea.search_text = text
            session.add(idea)
            changed += 1
    session.flush()
    return changed


def is_search_object(name: str | None, type_: str) -> bool:
    """Whether Alembic should leave this object alone: the FTS5 table and its shadow tables on
    SQLite, the expression index on PostgreSQL. Neither can be described by the models."""
    if type_ == "table":
        return name in SEARCH_TABLES
    if type_ == "index":
        return name in SEARCH_INDEXES
    return False
