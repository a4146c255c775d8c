"""The migrations: up, down and up again on an empty database, and in step with the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from taskapi import migrate


def tables(url: str) -> set[str]:
    return set(migrate.on_connection(url, lambda c: inspect(c).get_table_names()))


def test_up_down_up(empty_database: Callable[[], str]) -> None:
    url = empty_database()
    assert migrate.current_revision(url) is None

    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert "tasks" in tables(url)
    indexes = migrate.on_connection(url, lambda c: inspect(c).get_indexes("tasks"))
    assert any(index["column_names"][0] == "user_id" for index in indexes)

    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None
    assert "tasks" not in tables(url)

    migrate.upgrade(url)
    assert "tasks" in tables(url)


def test_the_models_match_the_migrations(database_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.modelled}
        )
        return list(compare_metadata(context, SQLModel.metadata))

    assert migrate.on_connection(database_url, differences) == []


COUNTS_MATCH = text(
    "SELECT count(*) FROM task_counts c WHERE c.total != "
    "(SELECT count(*) FROM tasks t WHERE t.user_id = c.user_id) OR c.completed != "
    "(SELECT count(*) FROM tasks t WHERE t.user_id = c.user_id AND t.completed)"
)


def run_sql(url: str, *statements: str, rows: list[dict[str, object]] | None = None) -> None:
    def work(connection: Connection) -> None:
        for statement in statements:
            connection.execute(text(statement), rows)
        connection.commit()

    migrate.on_connection(url, work)


def test_upgrading_a_populated_database_keeps_every_task_and_counts_them(
    empty_database: Callable[[], str],
) -> None:
    url = empty_database()
    migrate.upgrade(url, "0001")
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    run_sql(
        url,
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) "
        "VALUES (:user_id, :title, :completed, :at, :at)",
        rows=[
            {"user_id": user, "title": f"task {n}", "completed": n % 3 == 0, "at": stamp}
            for user, count in (("ann", 7), ("bob", 30))
            for n in range(count)
        ],
    )
    before = migrate.on_connection(
        url, lambda c: c.execute(text("SELECT * FROM tasks ORDER BY id")).all()
    )

    migrate.upgrade(url)

    after = migrate.on_connection(
        url, lambda c: c.execute(text("SELECT * FROM tasks ORDER BY id")).all()
    )
    assert [row[: len(before[0])] for row in after] == before
    assert task_counts(url) == [("ann", 7, 3), ("bob", 30, 10)]
    assert search_index_finds(url, "task 29") == 1  # the tasks made before it are searchable


def task_counts(url: str) -> list[tuple[str, int, int]]:
    sql = text("SELECT user_id, total, completed FROM task_counts ORDER BY user_id")
    return migrate.on_connection(
        url, lambda c: [(row[0], int(row[1]), int(row[2])) for row in c.execute(sql)]
    )


def search_index_finds(url: str, phrase: str) -> int:
    """How many tasks the database's own search index finds for a phrase."""

    def work(connection: Connection) -> int:
        if connection.dialect.name == "sqlite":
            sql = "SELECT count(*) FROM task_search WHERE task_search MATCH :phrase"
            return int(connection.execute(text(sql), {"phrase": f'"{phrase}"'}).scalar_one())
        # Usable, not necessarily chosen: a table this small is cheaper to read whole.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = connection.execute(
            text("EXPLAIN SELECT id FROM tasks WHERE title ILIKE :pattern"),
            {"pattern": f"%{phrase}%"},
        ).scalars()
        assert any("ix_tasks_search_title" in line for line in plan)
        sql = "SELECT count(*) FROM tasks WHERE title ILIKE :pattern"
        return int(connection.execute(text(sql), {"pattern": f"%{phrase}%"}).scalar_one())

    return migrate.on_connection(url, work)


def test_the_counts_follow_every_kind_of_write(empty_database: Callable[[], str]) -> None:
    url = empty_database()
    migrate.upgrade(url)
    run_sql(
        url,
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) VALUES "
        "('ann', 'a', FALSE, '2026-01-01', '2026-01-01'), "
        "('ann', 'b', TRUE, '2026-01-01', '2026-01-01'), "
        "('ann', 'c', FALSE, '2026-01-01', '2026-01-01'), "
        "('bob', 'd', TRUE, '2026-01-01', '2026-01-01')",
        "UPDATE tasks SET completed = NOT completed WHERE title IN ('a', 'b')",
        "UPDATE tasks SET completed = completed WHERE title = 'c'",
        "UPDATE tasks SET user_id = 'bob' WHERE title = 'c'",
        "DELETE FROM tasks WHERE title = 'd'",
    )
    assert task_counts(url) == [("ann", 2, 1), ("bob", 1, 0)]
    assert migrate.on_connection(url, lambda c: c.execute(COUNTS_MATCH).scalar()) == 0


def test_tasks_made_before_0006_are_found_ignoring_case_in_every_script(
    empty_database: Callable[[], str],
) -> None:
    # Georgian capitals (Mtavruli) are lower case to PostgreSQL, not to 0005's SQLite index.
    url = empty_database()
    migrate.upgrade(url, "0005")
    run_sql(
        url,
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) "
        "VALUES ('ann', 'ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ ΟΔΟΣ', FALSE, '2026-01-01', '2026-01-01')",
    )
    assert search_index_finds(url, "ᲡᲐᲥᲐᲠ") == 1
    migrate.upgrade(url)
    assert search_index_finds(url, "საქარ") == 1
    assert search_index_finds(url, "οδοσ") == 1
    migrate.downgrade(url, "0005")
    assert search_index_finds(url, "ᲡᲐᲥᲐᲠ") == 1
    migrate.upgrade(url)
    assert search_index_finds(url, "საქარ") == 1


def versions(url: str) -> dict[str, int]:
    sql = text("SELECT user_id, version FROM task_counts")
    return migrate.on_connection(url, lambda c: {row[0]: int(row[1]) for row in c.execute(sql)})


def test_the_version_moves_with_every_write_to_its_owners_tasks(
    empty_database: Callable[[], str],
) -> None:
    """Migration 0009: each write to a task raises its owner's version (the old and the new
    owner's when it moves), whatever column it changes; no one else's."""
    url = empty_database()
    migrate.upgrade(url, "0008")
    run_sql(
        url,
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) VALUES "
        "('ann', 'a', FALSE, '2026-01-01', '2026-01-01'), "
        "('bob', 'b', FALSE, '2026-01-01', '2026-01-01')",
    )
    migrate.upgrade(url)
    assert versions(url) == {"ann": 1, "bob": 1}  # rows made before 0009 start at 1

    seen = versions(url)
    for statement, moved in [
        (
            "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) "
            "VALUES ('ann', 'c', FALSE, '2026-01-01', '2026-01-01')",
            {"ann"},
        ),
        ("UPDATE tasks SET description = 'x' WHERE title = 'a'", {"ann"}),
        ("UPDATE tasks SET completed = TRUE WHERE title = 'a'", {"ann"}),
        ("UPDATE tasks SET completed = completed WHERE title = 'a'", {"ann"}),
        ("UPDATE tasks SET tags = '[\"home\"]' WHERE title = 'c'", {"ann"}),
        ("UPDATE tasks SET user_id = 'bob' WHERE title = 'c'", {"ann", "bob"}),
        ("DELETE FROM tasks WHERE title = 'b'", {"bob"}),
        (
            "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) "
            "VALUES ('cy', 'd', TRUE, '2026-01-01', '2026-01-01')",
            {"cy"},
        ),
    ]:
        run_sql(url, statement)
        now = versions(url)
        assert {user for user in now if now[user] != seen.get(user, 0)} == moved, statement
        assert all(now[user] > seen.get(user, 0) for user in moved), statement
        seen = now
    assert task_counts(url) == [("ann", 1, 1), ("bob", 1, 0), ("cy", 1, 1)]
    assert migrate.on_connection(url, lambda c: c.execute(COUNTS_MATCH).scalar()) == 0


def tag_counts(url: str) -> dict[tuple[str, str], int]:
    sql = text("SELECT user_id, tag, count FROM task_tag_counts")
    return migrate.on_connection(
        url, lambda c: {(row[0], row[1]): int(row[2]) for row in c.execute(sql)}
    )


TAG_COUNTS_MATCH = text(
    "SELECT (SELECT count(*) FROM task_tag_counts c WHERE c.count != (SELECT count(*) "
    "FROM task_tags t WHERE t.user_id = c.user_id AND t.tag = c.tag)) + (SELECT count(*) "
    "FROM (SELECT DISTINCT user_id, tag FROM task_tags) AS t WHERE NOT EXISTS (SELECT 1 FROM "
    "task_tag_counts c WHERE c.user_id = t.user_id AND c.tag = t.tag))"
)


def test_the_tag_counts_start_from_the_tags_and_follow_every_write_to_the_tasks(
    empty_database: Callable[[], str],
) -> None:
    """Migration 0010: the counts of tags made before it, then kept by the triggers on `tasks`
    (from its `tags` column) through inserts, edits of the tags, moves and deletes; a tag no
    task of its owner carries any more has no row. Down and up again."""
    url = empty_database()
    migrate.upgrade(url, "0009")
    insert = (
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at, tags) "
        "VALUES ('{user}', '{title}', FALSE, '2026-01-01', '2026-01-01', '{tags}')"
    )
    run_sql(
        url,
        insert.format(user="ann", title="a", tags='["home", "work"]'),
        insert.format(user="ann", title="b", tags='["home"]'),
        "INSERT INTO task_tags (task_id, user_id, tag) SELECT id, 'ann', 'home' FROM tasks",
        "INSERT INTO task_tags (task_id, user_id, tag) SELECT id, 'ann', 'work' FROM tasks "
        "WHERE title = 'a'",
    )
    migrate.upgrade(url)
    assert tag_counts(url) == {("ann", "home"): 2, ("ann", "work"): 1}

    for statements, expected in [
        (
            [insert.format(user="bob", title="c", tags='["home", "\\u00e9t\\u00e9"]')],
            {("ann", "home"): 2, ("ann", "work"): 1, ("bob", "home"): 1, ("bob", "été"): 1},
        ),
        (
            ["UPDATE tasks SET tags = '[\"work\"]' WHERE title = 'b'"],
            {("ann", "home"): 1, ("ann", "work"): 2, ("bob", "home"): 1, ("bob", "été"): 1},
        ),
        (
            ["UPDATE tasks SET completed = TRUE, tags = tags WHERE title = 'b'"],
            {("ann", "home"): 1, ("ann", "work"): 2, ("bob", "home"): 1, ("bob", "été"): 1},
        ),
        (
            ["UPDATE tasks SET user_id = 'bob' WHERE title = 'a'"],
            {("ann", "work"): 1, ("bob", "home"): 2, ("bob", "work"): 1, ("bob", "été"): 1},
        ),
        (["DELETE FROM tasks WHERE user_id = 'bob'"], {("ann", "work"): 1}),
    ]:
        run_sql(url, *statements)
        assert tag_counts(url) == expected, statements

    migrate.downgrade(url, "0009")
    assert "task_tag_counts" not in tables(url)
    run_sql(url, insert.format(user="cy", title="d", tags='["x"]'))  # no trigger left behind
    migrate.upgrade(url)
    # Counted again from task_tags, which the statements above left as they were ('b' still
    # has its 'home' row there) and where 'd' has none.
    assert tag_counts(url) == {("ann", "home"): 1}
