"""Full-text search of ideas: Russian, Kyrgyz and English words in inflected forms, on whichever
database the suite runs on (SQLite by default, PostgreSQL with TEST_DATABASE_URL)."""

import re

import pytest
from sqlalchemy import delete
from sqlmodel import SQLModel, col, func, select

from contests.models import Contest, Round
from core.db import Database
from core.models import utcnow
from ideas.forms import IdeaData
from ideas.models import PUBLIC_STATUSES, Idea, IdeaStatus
from ideas.search import (
    MAX_QUERY_WORDS,
    apply_search,
    fts5_expression,
    index_text,
    query_groups,
    reindex,
    tsquery_expression,
)
from ideas.services import create_idea
from tests.helpers import HOSTILE, make_user

SYNTAX_QUERIES = ['"', '""', "*", "NEAR(", "NEAR(a b", "OR", "AND", "NOT", "-", "- -", ":*",
                  "&|!", "'", "''", "a:*", "(", ")", "^", "{}", "search_text:", "idea_fts:x",
                  "\\", "%", "_", "!!", "<->", "a & b | !c", HOSTILE, "\x00", "' OR 1=1 --"]


@pytest.fixture
def add_idea(database: Database):
    """Makes a published idea through the service, which derives its search_text."""
    author = make_user(database, "author@example.kg")
    with database.session(write=True) as db:
        contest = Contest(slug="c", title="Contest", year=2027)
        db.add(contest)
        db.flush()
        round_ = Round(contest_id=contest.id, number=1, title="Round", max_ideas_per_day=100)
        db.add(round_)
        db.flush()
        round_id = round_.id

    def make(title: str, summary: str = f"summary {HOSTILE}", description: str = "",
             address: str = "") -> int:
        data = IdeaData(title=title, summary=summary, description=description,
                        category_id=None, district_id=None, estimated_cost=1000,
                        address=address, latitude=None, longitude=None)
        with database.session(write=True) as db:
            round_ = db.get(Round, round_id)
            assert round_ is not None and author.id is not None
            idea = create_idea(db, round_, author.id, data, utcnow(), IdeaStatus.PUBLISHED)
            assert idea.search_text == index_text(title, summary, description, address)
            assert idea.id is not None
            return idea.id

    return make


def found(database: Database, q: str) -> set[int]:
    with database.session() as db:
        dialect = db.get_bind().dialect.name
        return {i.id for i in db.exec(apply_search(select(Idea), dialect, q)) if i.id}


# --- on the database -------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["велодорожка", "велодорожки", "велодорожку", "велодорожек",
                               "велодорожкам", "ВЕЛОДОРОЖКАМИ", "велодор"])
def test_a_russian_word_is_found_in_any_case_and_number(database, add_idea, q) -> None:
    bike = add_idea("Велодорожка вдоль Чуйского проспекта")
    add_idea("Освещение двора")
    assert found(database, q) == {bike}


@pytest.mark.parametrize(("text", "q"), [
    ("Новые скамейки в сквере", "скамейка"),
    ("Скамейка у остановки", "скамейки"),
    ("Скамейка у остановки", "скамеек"),
    ("Мало скамеек у школы", "скамейку"),
    ("Питьевые фонтанчики в парке", "фонтанчиков"),
    ("Нет фонтанчиков во дворах", "фонтанчики"),
    ("Питьевые фонтанчики в парке", "фонтанчик"),
    ("Нужны велодорожки", "велодорожек"),
    ("Ёлки вдоль аллеи", "елки"),
    ("Посадить елки", "Ёлка"),
])
def test_russian_inflections_find_each_other(database, add_idea, text, q) -> None:
    wanted = add_idea(text)
    add_idea("Ремонт крыши")
    assert found(database, q) == {wanted}


@pytest.mark.parametrize(("text", "q"), [
    ("Мектептерге жаңы спорт залдары", "мектеп"),
    ("Мектептерге жаңы спорт залдары", "мектептин"),
    ("Мектептерге жаңы спорт залдары", "мектептер"),
    ("Мектептерге жаңы спорт залдары", "мектепке"),
    ("Мектептин короосун жарыктандыруу", "мектептерге"),
    ("Мектебибизге китепкана", "мектеп"),
    ("Жолдор оңдолсун", "жолдун"),
    ("Жолдун четине тротуар", "жолдор"),
    ("Жибек жолу көчөсүнө велосипед", "жолдордо"),
    ("Балдар аянтчасы", "аянтча"),
    ("Балдар аянтчасы", "балдардын аянтчаларына"),
    ("Аянтча курулсун", "аянтчасы"),
    ("Көчөлөргө чырактар", "көчөдө"),
    ("Мектептеги спорт зал", "мектептерибизге"),
    ("Китепкананын китептери", "китебин"),
])
def test_kyrgyz_inflections_find_each_other(database, add_idea, text, q) -> None:
    wanted = add_idea(text)
    add_idea("Ремонт крыши")
    assert found(database, q) == {wanted}


def test_a_kyrgyz_root_is_not_eaten_by_endings_it_happens_to_end_in(database, add_idea) -> None:
    hospital = add_idea("Ооруканага жол")
    add_idea("Ооруу балдарга жардам")
    assert found(database, "ооруканада") == found(database, "оорукана") == {hospital}


def test_every_word_of_a_query_must_match_in_some_language(database, add_idea) -> None:
    bike = add_idea("Велодорожка на Жибек жолу", address="Бишкек, ул. Жибек Жолу")
    school = add_idea("Мектептерге велодорожка", description="Bike racks near schools")
    assert found(database, "велодорожку жибек") == {bike}
    assert found(database, "велодорожки мектептин") == {school}
    assert found(database, "school велодорожек") == {school}
    assert found(database, "велодорожка") == {bike, school}
    assert found(database, "велодорожка фонтанчик") == set()


def test_the_address_and_description_are_searched_too(database, add_idea) -> None:
    wanted = add_idea("Деревья", description="Посадить 40 деревьев и playgrounds",
                      address="мкр. Асанбай 12")
    assert found(database, "асанбай") == found(database, "40") == {wanted}
    assert found(database, "playground") == found(database, "дерево") == {wanted}


def test_function_words_alone_do_not_narrow_the_list(database, add_idea) -> None:
    first, second = add_idea("Парк"), add_idea("Сквер")
    assert found(database, "на и жана the") == {first, second}
    assert found(database, "парк на") == {first}


@pytest.mark.parametrize("q", SYNTAX_QUERIES)
def test_query_syntax_typed_by_a_user_is_never_interpreted(database, add_idea, q) -> None:
    ideas = {add_idea('Квадратные "кавычки" OR NEAR(и) - звёздочка*'), add_idea("Парк")}
    assert found(database, q) in (set(), ideas, {min(ideas)})


def test_hostile_text_in_an_idea_is_indexed_as_plain_words(database, add_idea) -> None:
    wanted = add_idea(f"{HOSTILE} фонтан", description="\"NEAR(\" ' OR :* & | ! -- ;")
    add_idea("Парк")
    assert found(database, "script фонтан") == {wanted}
    assert found(database, "near") == {wanted}


def test_changing_an_ideas_text_changes_what_finds_it(database, add_idea) -> None:
    idea_id = add_idea("Фонтан в парке")
    with database.session(write=True) as db:
        idea = db.get(Idea, idea_id)
        assert idea is not None
        idea.title = "Скамейки в парке"
        idea.search_text = index_text(idea.title, idea.summary, idea.description, idea.address)
        db.add(idea)
    assert found(database, "фонтан") == set()
    assert found(database, "скамейка") == {idea_id}
    # Changing something else leaves the index as it was.
    with database.session(write=True) as db:
        idea = db.get(Idea, idea_id)
        assert idea is not None
        idea.support_count += 1
        db.add(idea)
    assert found(database, "скамейка") == {idea_id}


def test_a_deleted_idea_is_no_longer_found(database, add_idea) -> None:
    gone, kept = add_idea("Фонтан в парке"), add_idea("Фонтанчик у школы")
    with database.session(write=True) as db:
        # What the service recorded about the idea (its timeline, versions) goes first.
        for table in SQLModel.metadata.sorted_tables:
            if "idea_id" in table.c:
                db.exec(delete(table).where(table.c.idea_id == gone))
        db.exec(delete(Idea).where(col(Idea.id) == gone))
    assert found(database, "фонтан") == {kept}


def test_reindex_fills_the_search_text_of_older_ideas(database, add_idea) -> None:
    idea_id = add_idea("Балдар аянтчасы")
    with database.session(write=True) as db:
        idea = db.get(Idea, idea_id)
        assert idea is not None
        idea.search_text = ""
        db.add(idea)
    assert found(database, "аянтча") == set()
    with database.session(write=True) as db:
        assert reindex(db) == 1
        assert reindex(db) == 0
    assert found(database, "аянтча") == {idea_id}


def test_search_composes_with_filters_counts_and_subqueries(database, add_idea) -> None:
    wanted = add_idea("Велодорожка")
    add_idea("Парк")
    with database.session() as db:
        dialect = db.get_bind().dialect.name
        stmt = apply_search(select(Idea).where(col(Idea.status).in_(PUBLIC_STATUSES)),
                            dialect, "велодорожки")
        assert db.exec(select(func.count()).select_from(stmt.subquery())).one() == 1
        ids = db.exec(select(Idea.id).where(col(Idea.id).in_(select(stmt.subquery().c.id))))
        assert list(ids) == [wanted]


def test_an_empty_table_and_cleanup_leave_no_stale_matches(database, add_idea) -> None:
    # The suite's cleanup deletes every idea after each test; stale index rows would show up
    # here as ids without an idea (SQLite) or not at all (PostgreSQL indexes the row itself).
    assert found(database, "велодорожка") == set()
    assert found(database, "фонтан") == set()


# --- the stemming itself ---------------------------------------------------------------------

def test_index_text_lowercases_folds_yo_and_keeps_each_stem_once() -> None:
    text = index_text("Ёлки, ЁЛКИ и ёлка!", "", "2027 год", "ул._Жибек_Жолу")
    words = text.split()
    assert len(words) == len(set(words))
    assert {"елки", "елк", "елка", "2027", "жибек", "жолу", "жол"} <= set(words)
    assert "ё" not in text and text == text.casefold()


def test_index_text_gives_russian_kyrgyz_and_english_stems() -> None:
    assert "велодорожк" in index_text("велодорожками").split()
    assert "мектеп" in index_text("мектептерибизге").split()
    assert "мектеп" in index_text("мектеби").split()  # б back to п
    assert "аянтча" in index_text("аянтчаларыбызда").split()
    assert "мектеп" in index_text("мектептеги").split()
    assert "китеп" in index_text("китебин").split()
    assert "bench" in index_text("Benches").split()
    assert index_text("") == "" and index_text() == ""


def test_kyrgyz_roots_keep_at_least_three_letters() -> None:
    assert "суу" in index_text("сууга").split()
    assert all(len(w) >= 2 for w in index_text("ала ага да").split())


def test_query_groups_give_one_group_per_meaningful_word() -> None:
    assert query_groups("велодорожки на Жибек жолу") == [["велодорожк"], ["жибек", "жибк"],
                                                         ["жол"]]
    assert query_groups("велодорожек") == [["велодорожек", "велодорожк"]]
    assert query_groups("") == query_groups("  !! ") == query_groups("и в а") == []


def test_query_groups_are_capped_in_words_and_characters() -> None:
    many = " ".join(f"слово{i}" for i in range(30))
    assert len(query_groups(many)) == MAX_QUERY_WORDS
    assert query_groups("я" * 100 + " фонтан") == query_groups("я" * 100)
    assert all(len(s) <= 60 for g in query_groups("ж" * 99) for s in g)


@pytest.mark.parametrize("q", SYNTAX_QUERIES + ["велодорожка \"OR\" жол:*"])
def test_query_stems_are_only_letters_and_digits(q) -> None:
    for group in query_groups(q):
        assert group and all(re.fullmatch(r"[^\W_]+", stem) for stem in group)


def test_expressions_quote_every_stem() -> None:
    groups = [["велодорожк"], ["жибек", "жибк"], ["ул"]]
    assert fts5_expression(groups) == '("велодорожк"*) AND ("жибек"* OR "жибк"*) AND ("ул")'
    assert tsquery_expression(groups) == "('велодорожк':*) & ('жибек':* | 'жибк':*) & ('ул')"


def test_searching_for_a_reference_finds_that_idea(database, add_idea, client) -> None:
    first = add_idea("Benches in the park")
    second = add_idea("Lights on the bridge")
    with database.session() as db:
        reference = db.get(Idea, second).reference  # type: ignore[union-attr]
    assert found(database, reference) == {second}
    assert found(database, f" #{reference} ") == {second}
    assert first not in found(database, reference)
    page = client.get("/ideas", params={"q": reference})
    assert page.status_code == 200 and "Lights on the bridge" in page.text
    assert "Benches in the park" not in page.text
