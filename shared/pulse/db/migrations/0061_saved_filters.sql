-- Saved fleet filters (GET/POST/DELETE /saved-filters): a named set of the fleet list's query
-- parameters. owner is the token subject of the user who saved a personal filter; NULL marks a filter
-- shared with the whole tenant (customer administrators create those). Which user sees and deletes
-- which filter is decided by the API (pulse.dashboard.saved_filters); row-level security keeps every
-- row to its tenant, like every tenant table.

CREATE TABLE saved_filters (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    owner       text,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    query       jsonb NOT NULL CHECK (jsonb_typeof(query) = 'object'),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- One name per owner (or per tenant for shared filters), case-insensitively.
CREATE UNIQUE INDEX saved_filters_name ON saved_filters (tenant_id, coalesce(owner, ''), lower(name));
CREATE INDEX saved_filters_by_name ON saved_filters (tenant_id, name, id);

ALTER TABLE saved_filters ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON saved_filters TO pulse_app
    USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant());
CREATE POLICY operator_all ON saved_filters TO pulse_operator USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, DELETE ON saved_filters TO pulse_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON saved_filters TO pulse_operator;
