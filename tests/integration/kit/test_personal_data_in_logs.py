"""A write that fails with a customer's personal data in it leaves none of it in the log: the
engine keeps a statement's parameters out of its errors, and the formatter redacts the rest.
On PostgreSQL, which checks a column's length (SQLite does not)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db import create_engine
from shared.logging import JsonFormatter
from tests.support.databases import fresh_database, postgres_server_url

pytestmark = pytest.mark.skipif(postgres_server_url() is None, reason="PostgreSQL only")

NAME, BIRTHDAY, PHONE = "Zhang Xiuying", "1987-04-12", "+86 139 1234 5678 ext 9999 9999 9999"


async def test_a_failed_write_of_personal_data_logs_none_of_it(tmp_path):
    async with fresh_database(tmp_path, "pii_logs") as url:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "CREATE TABLE people (name varchar(200), birthday text, phone varchar(40))"
                    )
                )
            with pytest.raises(DBAPIError) as failure:
                async with engine.begin() as connection:
                    await connection.execute(
                        text("INSERT INTO people VALUES (:name, :birthday, :phone)"),
                        {"name": NAME, "birthday": BIRTHDAY, "phone": PHONE * 2},
                    )
        finally:
            await engine.dispose()

    error = failure.value
    record = logging.makeLogRecord(
        {"msg": "write failed", "levelname": "ERROR", "exc_info": (type(error), error, None)}
    )
    line = JsonFormatter("profile").format(record)
    entry = json.loads(line)
    assert "too long" in entry["exc"]  # the error itself is there
    for personal in (NAME, BIRTHDAY, "139 1234"):
        assert personal not in line
