-- Device twins (ARCHITECTURE §5): the current document, every accepted revision, the desired
-- leaves still waiting for reported to match (convergence deadline), the per-tenant twin settings
-- and an outbox of twin events (TwinNotConverged) that the rules plane consumes.

CREATE TABLE twin_settings (
    tenant_id            text PRIMARY KEY REFERENCES tenants (id),
    auto_clear           boolean NOT NULL DEFAULT false,
    convergence_minutes  integer CHECK (convergence_minutes BETWEEN 1 AND 10080),  -- NULL: platform default
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per device that has ever been updated; version 0 is never stored (an untouched twin).
-- document = {"state": {"desired", "reported"}, "metadata": {"desired", "reported"}, "version", "timestamp"}.
CREATE TABLE device_twins (
    tenant_id   text NOT NULL,
    device_id   text NOT NULL,
    document    jsonb NOT NULL,
    version     integer NOT NULL CHECK (version >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);

-- Append-only: the request and the resulting document of every accepted update.
CREATE TABLE device_twin_revisions (
    tenant_id     text NOT NULL,
    device_id     text NOT NULL,
    version       integer NOT NULL CHECK (version > 0),
    at            timestamptz NOT NULL,
    source        text NOT NULL CHECK (source IN ('device', 'api', 'system')),
    actor         text NOT NULL DEFAULT '',
    client_token  text,
    request       jsonb NOT NULL,
    document      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, device_id, version),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_twin_revisions_at ON device_twin_revisions (tenant_id, device_id, at);

-- Desired leaves (JSON Pointer) that reported does not match yet. A row is (re)started when an
-- update writes that desired leaf (desired_version = the revision that wrote it) and deleted as
-- soon as the leaf leaves the delta. The scheduled convergence check raises one event per row.
CREATE TABLE twin_pending_desired (
    tenant_id        text NOT NULL,
    device_id        text NOT NULL,
    path             text NOT NULL,
    desired          jsonb NOT NULL,
    desired_version  integer NOT NULL,
    set_at           timestamptz NOT NULL,
    notified_at      timestamptz,
    PRIMARY KEY (tenant_id, device_id, path),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX twin_pending_desired_due ON twin_pending_desired (set_at) WHERE notified_at IS NULL;

-- Outbox. event_key makes each occurrence unique (TwinNotConverged: '<path>@<desired_version>'),
-- so a desired change raises at most one event however often the check runs.
CREATE TABLE twin_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     text NOT NULL,
    device_id     text NOT NULL,
    event_name    text NOT NULL,
    event_key     text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    data          jsonb NOT NULL,
    published_at  timestamptz,
    UNIQUE (tenant_id, device_id, event_name, event_key)
);
CREATE INDEX twin_events_unpublished ON twin_events (id) WHERE published_at IS NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['twin_settings', 'device_twins', 'device_twin_revisions', 'twin_pending_desired',
                             'twin_events'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON twin_settings, device_twins TO pulse_app;
GRANT SELECT, INSERT ON device_twin_revisions, twin_events TO pulse_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON twin_pending_desired TO pulse_app;
