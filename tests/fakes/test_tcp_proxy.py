"""The TCP proxy does to a MariaDB client what each of its modes promises."""
from __future__ import annotations

import secrets
import time

import pymysql
import pytest

from tests.conftest import MARIADB
from tests.fakes.tcp_proxy import TcpProxy

TIMEOUT = 1.0


def through(proxy: TcpProxy, database: str | None = None, **settings) -> pymysql.Connection:
    return pymysql.connect(host="127.0.0.1", port=proxy.port, user="root", password="", database=database,
                           connect_timeout=TIMEOUT, read_timeout=TIMEOUT, write_timeout=TIMEOUT, **settings)


@pytest.fixture
def proxy():
    with TcpProxy(MARIADB["port"]) as proxy:
        yield proxy


@pytest.fixture
def table():
    """A throw-away database with one table; yields its name."""
    name = f"proxy_test_{secrets.token_hex(4)}"
    direct = pymysql.connect(**MARIADB, autocommit=True)
    with direct.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
        cursor.execute(f"CREATE TABLE `{name}`.t (n INT) ENGINE=InnoDB")
    try:
        yield name
    finally:
        with direct.cursor() as cursor:
            cursor.execute(f"DROP DATABASE `{name}`")
        direct.close()


def rows_in(name: str) -> int:
    direct = pymysql.connect(**MARIADB)
    try:
        with direct.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM `{name}`.t")
            return cursor.fetchone()[0]
    finally:
        direct.close()


def test_forward_passes_queries_both_ways(proxy):
    connection = through(proxy)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 40 + 2")
        assert cursor.fetchone() == (42,)
    connection.close()


def test_refuse_refuses_new_connections_and_cuts_open_ones(proxy):
    connection = through(proxy)
    proxy.refuse()
    started = time.monotonic()
    with pytest.raises(pymysql.OperationalError) as refused:
        through(proxy)
    assert refused.value.args[0] == 2003 and time.monotonic() - started < 0.5  # refused at once, not a timeout
    with pytest.raises(pymysql.OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    proxy.forward()
    through(proxy).close()


def test_black_hole_holds_connections_open_and_answers_nothing(proxy):
    connection = through(proxy)
    proxy.black_hole()
    started = time.monotonic()
    with pytest.raises(pymysql.OperationalError) as lost, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert lost.value.args[0] == 2013 and TIMEOUT - 0.1 < time.monotonic() - started < TIMEOUT + 1
    started = time.monotonic()
    with pytest.raises(pymysql.OperationalError):  # TCP connects, but the greeting never comes
        through(proxy)
    assert TIMEOUT - 0.1 < time.monotonic() - started < TIMEOUT + 1
    proxy.forward()
    through(proxy).close()


def test_black_hole_after_a_commit_lets_it_commit_and_loses_the_answer(proxy, table):
    connection = through(proxy, table)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    proxy.black_hole(after=b"COMMIT")
    with pytest.raises(pymysql.OperationalError):
        connection.commit()
    assert rows_in(table) == 1  # committed, although the client never heard so
    proxy.forward()
    again = through(proxy, table)
    with again.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM t")
        assert cursor.fetchone() == (1,)
    again.close()
