-- On-call (ARCHITECTURE §1 Actions plane): schedules with their layers and rotations, overrides,
-- shift swap requests, the secret of each schedule's iCal feed, and alerts about a schedule.
--
-- Customers work through the API as pulse_app (row-level security on tenant_id); operators see
-- everything. The hourly coverage check runs as pulse_ingest, like the rules evaluator: it reads
-- every tenant's schedules and overrides and opens / resolves coverage-gap alerts.

CREATE TABLE oncall_schedules (
    tenant_id        text NOT NULL REFERENCES tenants (id),
    id               text NOT NULL,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone         text NOT NULL,
    description      text NOT NULL DEFAULT '',
    alert_on_gaps    boolean NOT NULL DEFAULT true,
    layers           jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(layers) = 'array'),  -- [Layer]
    ical_token_hash  bytea UNIQUE,  -- sha256 of the feed's secret token; NULL until one is issued
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX oncall_schedules_by_name ON oncall_schedules (tenant_id, name, id);

-- An override puts one user on call for a time range, above every layer; an accepted swap is an
-- override with source 'swap'. Overlaps are allowed: the newest override wins where they overlap.
CREATE TABLE oncall_overrides (
    tenant_id    text NOT NULL,
    id           text NOT NULL,
    schedule_id  text NOT NULL,
    username     text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    source       text NOT NULL DEFAULT 'override' CHECK (source IN ('override', 'swap')),
    swap_id      text,
    note         text NOT NULL DEFAULT '',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES oncall_schedules (tenant_id, id) ON DELETE CASCADE,
    CHECK (ends_at > starts_at),
    CHECK ((source = 'swap') = (swap_id IS NOT NULL))
);
CREATE INDEX oncall_overrides_by_schedule ON oncall_overrides (tenant_id, schedule_id, ends_at);

-- A user asks another to take a range of their shift; accepting writes the 'swap' override.
CREATE TABLE oncall_swaps (
    tenant_id     text NOT NULL,
    id            text NOT NULL,
    schedule_id   text NOT NULL,
    from_user     text NOT NULL,
    to_user       text NOT NULL CHECK (to_user <> from_user),
    requested_by  text NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'accepted', 'declined')),
    note          text NOT NULL DEFAULT '',
    override_id   text,
    created_at    timestamptz NOT NULL,
    decided_by    text,
    decided_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES oncall_schedules (tenant_id, id) ON DELETE CASCADE,
    CHECK (ends_at > starts_at),
    CHECK ((state = 'accepted') = (override_id IS NOT NULL))
);
CREATE INDEX oncall_swaps_by_schedule ON oncall_swaps (tenant_id, schedule_id, created_at DESC, id DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['oncall_schedules', 'oncall_overrides', 'oncall_swaps'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON oncall_schedules, oncall_overrides TO pulse_app;
GRANT SELECT, INSERT, UPDATE ON oncall_swaps TO pulse_app;

-- The coverage check reads schedules and overrides of every tenant, nothing else of on-call.
CREATE POLICY ingest_read ON oncall_schedules FOR SELECT TO pulse_ingest USING (true);
CREATE POLICY ingest_read ON oncall_overrides FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON oncall_schedules, oncall_overrides TO pulse_ingest;

-- An iCal client presents only the feed's token (no user, no tenant): this function (owner
-- rights) answers exactly "which schedule does this token hash open", nothing else crosses tenants.
CREATE FUNCTION pulse_find_ical_schedule(hash bytea)
    RETURNS TABLE (tenant_id text, schedule_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT s.tenant_id, s.id FROM oncall_schedules s WHERE s.ical_token_hash = hash $$;
REVOKE ALL ON FUNCTION pulse_find_ical_schedule(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pulse_find_ical_schedule(bytea) TO pulse_app;

-- Alerts about something that is not a device. Until now every alert belonged to a device
-- (device_id referenced devices). A coverage gap belongs to a schedule: 'subject' says which kind of
-- thing device_id names, and the foreign key now checks only device subjects, through a generated
-- column that is NULL for the others (a NULL column is not checked by a foreign key). Existing
-- rows and every writer that does not name a subject stay device alerts, checked and cascaded as before.
ALTER TABLE alerts
    ADD COLUMN subject text NOT NULL DEFAULT 'device' CHECK (subject IN ('device', 'schedule')),
    ADD COLUMN subject_device_id text GENERATED ALWAYS AS (CASE WHEN subject = 'device' THEN device_id END) STORED;
ALTER TABLE alerts DROP CONSTRAINT alerts_tenant_id_device_id_fkey;
ALTER TABLE alerts ADD CONSTRAINT alerts_device_fkey
    FOREIGN KEY (tenant_id, subject_device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE;
CREATE INDEX alerts_by_device ON alerts (tenant_id, subject_device_id) WHERE subject_device_id IS NOT NULL;
