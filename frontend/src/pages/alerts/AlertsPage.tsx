import { Anchor, Badge, Button, Group, MultiSelect, Select, Table, Text, TextInput, Tooltip } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { SeverityBadge, StatusBadge } from "../../components/badges";
import { formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { ALERT_STATES, SEVERITIES, formatValue, type Alert, type AlertState, type Severity } from "./model";

const SORTS = [
  { value: "opened", label: "Opened, newest first" },
  { value: "severity", label: "Severity, worst first" },
  { value: "fired", label: "Last fired, newest first" },
  { value: "count", label: "Times fired, most first" },
];

function sortAlerts(items: Alert[], sort: string): Alert[] {
  if (sort === "opened" || !sort) return items;
  const copy = [...items];
  if (sort === "severity") copy.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  if (sort === "fired") copy.sort((a, b) => b.last_fired_at.localeCompare(a.last_fired_at));
  if (sort === "count") copy.sort((a, b) => b.count - a.count);
  return copy;
}

/** A text filter typed freely and written to the URL once the user pauses. */
function useTextFilter(params: URLSearchParams, setParam: (key: string, value: string | null) => void, key: string) {
  const [text, setText] = useState(params.get(key) ?? "");
  const [debounced] = useDebouncedValue(text, 300);
  useEffect(() => {
    if ((params.get(key) ?? "") !== debounced.trim()) setParam(key, debounced.trim() || null);
  }, [debounced]); // only the typed value drives the URL
  return [text, setText] as const;
}

export function AlertsPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const setParam = (key: string, value: string | string[] | null) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        next.delete(key);
        for (const v of Array.isArray(value) ? value : value ? [value] : []) next.append(key, v);
        return next;
      },
      { replace: true },
    );
  const states = params.getAll("state").filter((s): s is AlertState => (ALERT_STATES as string[]).includes(s));
  const severity = (params.get("severity") as Severity | null) ?? undefined;
  const rule = params.get("rule") ?? undefined;
  const silenced = params.get("silenced");
  const sort = params.get("sort") ?? "opened";
  const [device, setDevice] = useTextFilter(params, setParam, "device");
  const [site, setSite] = useTextFilter(params, setParam, "site");

  const query = {
    state: states.length ? states : undefined,
    severity,
    rule_id: rule,
    device_id: params.get("device") ?? undefined,
    site_id: params.get("site") ?? undefined,
    silenced: silenced === "true" ? true : silenced === "false" ? false : undefined,
  };
  const paged = usePagedQuery(
    ["alerts", query],
    (cursor) => unwrap(api.GET("/api/v1/alerts", { params: { query: { ...query, cursor, limit: 50 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  const rules = useQuery({
    queryKey: ["rules", "choices"],
    queryFn: () => unwrap(api.GET("/api/v1/rules", { params: { query: { limit: 200 } } })),
    staleTime: 60_000,
  });
  const ruleChoices = useMemo(() => {
    const items = (rules.data?.items ?? []).map((r) => ({ value: r.id, label: r.rule.name }));
    if (rule && !items.some((i) => i.value === rule)) items.push({ value: rule, label: rule });
    return items;
  }, [rules.data, rule]);
  const filtered = states.length > 0 || !!severity || !!rule || !!silenced || !!params.get("device") || !!params.get("site");

  return (
    <>
      <PageHeader title="Alerts" description="Alerts raised by your rules, newest first. The list refreshes every few seconds." />
      <Group wrap="wrap" align="flex-end" gap="sm" mb="md">
        <MultiSelect label="State" placeholder={states.length ? undefined : "Any state"} data={ALERT_STATES} value={states} onChange={(v) => setParam("state", v)} clearable w={260} />
        <Select
          label="Severity"
          placeholder="Any severity"
          data={SEVERITIES.map((s) => ({ value: s, label: `${s} or worse` }))}
          value={severity ?? null}
          onChange={(v) => setParam("severity", v)}
          clearable
          w={170}
        />
        <Select label="Rule" placeholder="Any rule" data={ruleChoices} value={rule ?? null} onChange={(v) => setParam("rule", v)} searchable clearable w={220} />
        <TextInput label="Device" placeholder="Device id" value={device} onChange={(e) => setDevice(e.currentTarget.value)} w={170} />
        <TextInput label="Site" placeholder="Site id" value={site} onChange={(e) => setSite(e.currentTarget.value)} w={150} />
        <Select
          label="Silenced"
          data={[
            { value: "false", label: "Not silenced" },
            { value: "true", label: "Silenced" },
          ]}
          placeholder="Either"
          value={silenced}
          onChange={(v) => setParam("silenced", v)}
          clearable
          w={150}
        />
        <Select label="Sort this page" data={SORTS} value={sort} onChange={(v) => setParam("sort", v === "opened" ? null : v)} allowDeselect={false} w={220} />
        {filtered && (
          <Button
            variant="subtle"
            onClick={() => {
              setDevice("");
              setSite("");
              setParams(new URLSearchParams(sort !== "opened" ? { sort } : {}), { replace: true });
            }}
          >
            Clear filters
          </Button>
        )}
      </Group>
      <QueryState
        query={paged.query}
        isEmpty={(page) => page.items.length === 0}
        empty={<EmptyState title={filtered ? "No alerts match these filters" : "No alerts"}>{filtered ? "Change or clear the filters." : "Nothing has fired. Rules open alerts here."}</EmptyState>}
      >
        {(page) => (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Severity</Table.Th>
                  <Table.Th>Alert</Table.Th>
                  <Table.Th>Device</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Value</Table.Th>
                  <Table.Th>Opened</Table.Th>
                  <Table.Th>Fired</Table.Th>
                  <Table.Th>Assignee</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {sortAlerts(page.items, sort).map((alert) => (
                  <Table.Tr key={alert.id}>
                    <Table.Td>
                      <SeverityBadge severity={alert.severity} />
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/alerts/${alert.id}`} fw={500}>
                        {alert.rule_name}
                      </Anchor>
                      {alert.silenced && (
                        <Badge ml={6} size="xs" color="grape" variant="outline">
                          silenced
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/devices/${alert.device_id}`} size="sm">
                        {alert.device_id}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={alert.state} />
                    </Table.Td>
                    <Table.Td>{formatValue(alert.last_value)}</Table.Td>
                    <Table.Td>
                      <Tooltip label={formatTime(alert.opened_at)}>
                        <Text size="sm">{timeAgo(alert.opened_at)}</Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>{alert.count}×</Table.Td>
                    <Table.Td>{alert.assignee ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
    </>
  );
}
