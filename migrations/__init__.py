"""The schema's history: Alembic's environment and revisions (数据库迁移).

This folder sits at the top of the repository and is installed as
``juzhang.migrations`` (pyproject's ``package-dir``), so
:func:`juzhang.storage.engine.upgrade` and ``juzhang db upgrade`` find the same
scripts in a checkout and in an installed wheel.  A revision that holds long
SQL keeps it in ``.sql`` files beside it (:mod:`juzhang.migrations.sql_file`).
"""
