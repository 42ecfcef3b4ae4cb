-- Rules plane (issue 6): versioned rules, per (rule, device) evaluator state, the tenant's metric
-- catalog and the per-model mappings that normalize raw device metrics onto it.
--
-- A rule is a row in `rules` (what is current) and one immutable row per version in
-- `rule_versions` (body = the Rule JSON of pulse.rules.model). The scope columns of `rules` copy
-- the current version's scope so that SQL can find the devices a rule watches without parsing
-- bodies. Ingest and the scheduled evaluator run as pulse_ingest and cross tenants.

CREATE TABLE rules (
    tenant_id         text NOT NULL REFERENCES tenants (id),
    id                text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    name              text NOT NULL,
    current_version   integer NOT NULL CHECK (current_version >= 1),
    enabled           boolean NOT NULL DEFAULT true,
    deleted_at        timestamptz,
    scope_site_ids    text[] NOT NULL DEFAULT '{}',
    scope_device_ids  text[] NOT NULL DEFAULT '{}',
    scope_models      text[] NOT NULL DEFAULT '{}',
    scope_tags        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),  -- any change: version, enabled, delete
    scope_synced_at   timestamptz,  -- the scheduled evaluator started a state for every device in scope then
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rules_live ON rules (tenant_id, updated_at) WHERE deleted_at IS NULL;

CREATE TABLE rule_versions (
    tenant_id   text NOT NULL,
    rule_id     text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    body        jsonb NOT NULL,
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule_id, version),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE
);

-- What the evaluator remembers per (rule, device): state = pulse.rules.state.RuleState JSON.
-- firing, next_due and watermark repeat fields of state so that SQL can select due rows (the
-- scheduled tick), rows whose device sent telemetry the rule has not seen (catch-up) and firing
-- rows without reading the JSON.
CREATE TABLE rule_state (
    tenant_id     text NOT NULL,
    rule_id       text NOT NULL,
    device_id     text NOT NULL,
    rule_version  integer NOT NULL,
    state         jsonb NOT NULL,
    firing        boolean NOT NULL DEFAULT false,
    next_due      timestamptz,
    watermark     timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule_id, device_id),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES rules (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
) WITH (fillfactor = 70);  -- rewritten on every evaluation: room for HOT updates
-- The tick's timers: an index scan instead of reading every state.
CREATE INDEX rule_state_due ON rule_state (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX rule_state_by_device ON rule_state (tenant_id, device_id);

-- The tenant's metric names: what rules are written against.
CREATE TABLE metric_catalog (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    name         text NOT NULL CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.\-]{0,63}$'),
    unit         text NOT NULL DEFAULT '' CHECK (length(unit) <= 32),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- Per device model: raw metric `source` -> catalog `metric` = raw * multiplier + "offset".
CREATE TABLE metric_mappings (
    tenant_id    text NOT NULL,
    model        text NOT NULL CHECK (length(model) BETWEEN 1 AND 128),
    source       text NOT NULL CHECK (source ~ '^[A-Za-z][A-Za-z0-9_.\-]{0,63}$'),
    metric       text NOT NULL,
    multiplier   double precision NOT NULL DEFAULT 1 CHECK (multiplier <> 0),
    "offset"     double precision NOT NULL DEFAULT 0,
    source_unit  text NOT NULL DEFAULT '' CHECK (length(source_unit) <= 32),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model, source),
    FOREIGN KEY (tenant_id, metric) REFERENCES metric_catalog (tenant_id, name)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rules', 'rule_versions', 'rule_state', 'metric_catalog', 'metric_mappings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
        EXECUTE format('CREATE POLICY ingest_read ON %I FOR SELECT TO pulse_ingest USING (true)', t);
        EXECUTE format('GRANT SELECT ON %I TO pulse_ingest', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE ON rules, metric_catalog TO pulse_app;
GRANT SELECT, INSERT ON rule_versions TO pulse_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON metric_mappings TO pulse_app;
GRANT DELETE ON metric_catalog TO pulse_app;
GRANT SELECT, DELETE ON rule_state TO pulse_app;  -- a deleted rule's state goes with it

-- The evaluators (ingest, scheduled) keep the state of every tenant's rules.
CREATE POLICY ingest_write ON rule_state FOR INSERT TO pulse_ingest WITH CHECK (true);
CREATE POLICY ingest_update ON rule_state FOR UPDATE TO pulse_ingest USING (true) WITH CHECK (true);
CREATE POLICY ingest_delete ON rule_state FOR DELETE TO pulse_ingest USING (true);  -- device left the scope
GRANT INSERT, UPDATE, DELETE ON rule_state TO pulse_ingest;

-- The scheduled evaluator records when it last started states for every device in a rule's scope.
CREATE POLICY ingest_sync ON rules FOR UPDATE TO pulse_ingest USING (true) WITH CHECK (true);
GRANT UPDATE (scope_synced_at) ON rules TO pulse_ingest;

-- Rules read the twin (twin predicates and refs) and the site's time zone (schedules).
CREATE POLICY ingest_read ON device_twins FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON device_twins TO pulse_ingest;
CREATE POLICY ingest_read ON sites FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON sites TO pulse_ingest;
