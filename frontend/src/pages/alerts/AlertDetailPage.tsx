import { Anchor, Badge, Group, Paper, SimpleGrid, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, useParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { SeverityBadge, StatusBadge } from "../../components/badges";
import { formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { AlertActions } from "./AlertActions";
import { AlertEscalationPanel } from "./AlertEscalationPanel";
import { AlertExplain } from "./AlertExplain";
import { AlertTimeline } from "./AlertTimeline";
import { formatValue, type AlertDetail } from "./model";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </Stack>
  );
}

function when(at: string | null | undefined, by?: string | null): string {
  if (!at) return "—";
  return `${formatTime(at)} (${timeAgo(at)})${by ? ` by ${by}` : ""}`;
}

function Summary({ alert }: { alert: AlertDetail }) {
  return (
    <Paper withBorder p="md" component="section" aria-label="Summary">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="md">
        <Fact label="Severity">
          <SeverityBadge severity={alert.severity} />
        </Fact>
        <Fact label="State">
          <Group gap={4}>
            <StatusBadge status={alert.state} />
            {alert.silenced && (
              <Badge color="grape" variant="outline">
                silenced
              </Badge>
            )}
            {alert.latched && (
              <Badge color="orange" variant="outline">
                latched
              </Badge>
            )}
          </Group>
        </Fact>
        <Fact label="Device">
          <Anchor component={Link} to={`/devices/${alert.device_id}`}>
            {alert.device_id}
          </Anchor>
          {alert.site_id && <Text size="xs" c="dimmed">site {alert.site_id}</Text>}
        </Fact>
        <Fact label="Rule">
          <Anchor component={Link} to={`/rules/${alert.rule_id}`}>
            {alert.rule_name}
          </Anchor>{" "}
          <Text span size="xs" c="dimmed">
            v{alert.rule_version}
          </Text>
        </Fact>
        <Fact label="Opened">{when(alert.opened_at)}</Fact>
        <Fact label="Acknowledged">{when(alert.acknowledged_at, alert.acknowledged_by)}</Fact>
        <Fact label="Assignee">{alert.assignee ?? "nobody"}</Fact>
        <Fact label="Value">
          {formatValue(alert.last_value)}
          {alert.first_value !== alert.last_value && alert.first_value !== null && (
            <Text span size="xs" c="dimmed">
              {" "}
              (first {formatValue(alert.first_value)})
            </Text>
          )}
        </Fact>
        <Fact label="Fired">
          {alert.count}× · last {timeAgo(alert.last_fired_at)}
        </Fact>
        {alert.snoozed_until && <Fact label="Snoozed until">{when(alert.snoozed_until)}</Fact>}
        {alert.condition_cleared_at && <Fact label="Condition cleared">{when(alert.condition_cleared_at)}</Fact>}
        {alert.resolved_at && <Fact label="Resolved">{when(alert.resolved_at, alert.resolved_by)}</Fact>}
        {alert.closed_at && <Fact label="Closed">{when(alert.closed_at)}</Fact>}
        {alert.silence_id && <Fact label="Silence">{alert.silence_id}</Fact>}
      </SimpleGrid>
    </Paper>
  );
}

export function AlertDetailPage() {
  const { alertId = "" } = useParams();
  const api = useApi();
  const query = useQuery({
    queryKey: ["alert", alertId],
    queryFn: () => unwrap(api.GET("/api/v1/alerts/{alert_id}", { params: { path: { alert_id: alertId } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  return (
    <>
      <PageHeader
        title={query.data ? `${query.data.rule_name} on ${query.data.device_id}` : "Alert"}
        description={
          <Anchor component={Link} to="/alerts" size="sm">
            ← All alerts
          </Anchor>
        }
      />
      <QueryState query={query}>
        {(alert) => (
          <Stack gap="md">
            <WriteOnly>
              <AlertActions key={alert.id} alert={alert} />
            </WriteOnly>
            <Summary alert={alert} />
            <AlertTimeline alertId={alert.id} />
            <AlertEscalationPanel alertId={alert.id} />
            <AlertExplain alert={alert} />
          </Stack>
        )}
      </QueryState>
    </>
  );
}
