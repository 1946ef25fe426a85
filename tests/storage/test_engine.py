"""Connection settings of :func:`juzhang.storage.engine.make_engine`."""

from __future__ import annotations

from sqlalchemy import text

from juzhang.storage.engine import make_engine

PREPARED = text("SELECT count(*) FROM pg_prepared_statements")


def _prepared(url: str, **kwargs: object) -> int:
    engine = make_engine(url, **kwargs)  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            for n in range(12):
                conn.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": n}).scalar_one()
            return int(conn.execute(PREPARED).scalar_one())
    finally:
        engine.dispose()


def test_postgresql_statements_are_planned_with_their_values(pg_url: str) -> None:
    """No statement is prepared on the server, so none runs on a generic plan.

    A generic plan is made without the parameters' values, on statistics a bulk
    step may have outgrown; the values' own plan is made at each run instead.
    """
    assert _prepared(pg_url) == 0
    # the check can fail: psycopg's own default prepares a statement run this often
    assert _prepared(pg_url, connect_args={"prepare_threshold": 5}) > 0


def test_a_callers_connect_args_are_kept(pg_url: str) -> None:
    engine = make_engine(pg_url, connect_args={"application_name": "jz-test"})
    try:
        with engine.connect() as conn:
            name = conn.execute(text("SHOW application_name")).scalar_one()
            assert name == "jz-test"
            for n in range(8):
                conn.execute(text("SELECT CAST(:n AS integer)"), {"n": n})
            assert conn.execute(PREPARED).scalar_one() == 0
    finally:
        engine.dispose()
