"""Tenant isolation lives in SQL: row-level security on every table that holds tenant data."""

from __future__ import annotations

import psycopg
import pytest

from tests.builders import make_device, make_tenant


def _tenant_tables(sql: psycopg.Connection) -> list[str]:
    rows = sql.execute(
        """SELECT c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
           WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           ORDER BY 1"""
    ).fetchall()
    return [r[0] for r in rows]


def test_every_table_with_a_tenant_id_has_row_level_security_and_an_isolation_policy(sql):
    tables = _tenant_tables(sql)
    assert {"devices", "telemetry", "telemetry_messages", "quarantine_events"} <= set(tables)
    for table in tables:
        enabled = sql.execute("SELECT relrowsecurity FROM pg_class WHERE relname = %s", (table,)).fetchone()[0]
        policies = {
            r[0] for r in sql.execute("SELECT policyname FROM pg_policies WHERE tablename = %s", (table,)).fetchall()
        }
        assert enabled, f"{table} has no row-level security"
        assert "tenant_isolation" in policies, f"{table} has no tenant_isolation policy"


SEEDED = {
    "devices",
    "telemetry",
    "telemetry_messages",
    "quarantine_events",
    "quarantine_counts",
    "telemetry_dirty_hours",
    "telemetry_1m",
    "telemetry_1h",
}


@pytest.fixture
def two_tenants(sql):
    for tenant in ("alpha", "bravo"):
        make_tenant(sql, tenant)
        make_device(sql, tenant, "dev-1")
        sql.execute("SELECT pulse_ensure_day_partition('telemetry', current_date)")
        sql.execute("SELECT pulse_ensure_day_partition('telemetry_messages', current_date)")
        sql.execute("INSERT INTO telemetry VALUES (%s, 'dev-1', now(), 'temp_c', 1)", (tenant,))
        sql.execute(
            """INSERT INTO telemetry_messages (tenant_id, device_id, msg_key, ts, metric_count, source)
                       VALUES (%s, 'dev-1', 'k', now(), 1, 'mqtt')""",
            (tenant,),
        )
        sql.execute(
            """INSERT INTO quarantine_events (tenant_id, topic, source, reason, detail, excerpt, payload_size)
                       VALUES (%s, 't', 'mqtt', 'bad_metric', 'd', 'e', 1)""",
            (tenant,),
        )
        sql.execute(
            "INSERT INTO quarantine_counts VALUES (date_trunc('minute', now()), %s, 'bad_metric', 1)", (tenant,)
        )
        sql.execute("INSERT INTO telemetry_dirty_hours VALUES (%s, date_trunc('hour', now()))", (tenant,))
        sql.execute(
            """INSERT INTO telemetry_1m VALUES (%s, 'dev-1', 'temp_c', date_trunc('minute', now()),
                       1, 1, 1, 1, now(), 1)""",
            (tenant,),
        )
        sql.execute(
            """INSERT INTO telemetry_1h VALUES (%s, 'dev-1', 'temp_c', date_trunc('hour', now()),
                       1, 1, 1, 1, now(), 1)""",
            (tenant,),
        )
    return sql


def test_app_role_sees_only_its_tenant_without_any_where_clause(two_tenants, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.execute("SELECT set_config('app.tenant_id', 'alpha', true)")
        for table in _tenant_tables(two_tenants):
            seen = {r[0] for r in conn.execute(f"SELECT DISTINCT tenant_id FROM {table}").fetchall()}
            assert seen <= {"alpha"}, f"{table} leaked {seen - {'alpha'}}"
            if table in SEEDED:
                assert seen == {"alpha"}, f"{table} hides alpha's own rows"
        assert conn.execute("SELECT id FROM tenants").fetchall() == [("alpha",)]


def test_app_role_without_a_tenant_sees_nothing(two_tenants, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        for table in _tenant_tables(two_tenants):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_app_role_cannot_write_into_another_tenant(two_tenants, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.execute("SELECT set_config('app.tenant_id', 'alpha', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO devices (tenant_id, id) VALUES ('bravo', 'sneaky')")
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.execute("SELECT set_config('app.tenant_id', 'alpha', true)")
        updated = conn.execute("UPDATE devices SET name = 'x' WHERE tenant_id = 'bravo'").rowcount
        assert updated == 0


def test_tenant_setting_is_transaction_local_so_a_reused_connection_forgets_it(two_tenants, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.commit()
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', 'alpha', true)")
            assert conn.execute("SELECT count(*) FROM devices").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM devices").fetchone() == (0,)


def test_ingest_role_cannot_read_or_change_what_ingest_does_not_need(two_tenants, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_ingest")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE devices SET status = 'active', token_hash = NULL")
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_ingest")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM telemetry")
