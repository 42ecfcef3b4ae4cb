import { Anchor, Badge, Group, Paper, SimpleGrid, Stack, Text, Title, Tooltip } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { EChartsOption } from "echarts";
import { Link } from "react-router-dom";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { SeverityBadge, StatusBadge } from "../../components/badges";
import { Chart } from "../../components/Chart";
import { formatNumber, formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, QueryState } from "../../components/QueryState";
import { SEVERITIES, SEVERITY_COLORS, StatGroup, openAlertsLink } from "./dashboard/cards";

type TenantDashboard = components["schemas"]["TenantDashboard"];
type FeedEvent = TenantDashboard["recent_events"][number];

const ACTIVE = "/fleet?status=active";

function ingestOption(ingest: TenantDashboard["ingest"]): EChartsOption {
  return {
    tooltip: { trigger: "axis" },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: `msg / ${ingest.bucket_seconds === 60 ? "min" : `${ingest.bucket_seconds} s`}`, minInterval: 1 },
    series: [{ type: "line", name: "messages", showSymbol: false, areaStyle: { opacity: 0.15 }, data: ingest.series.map((p) => [p.at, p.messages]) }],
  };
}

function EventLink({ event }: { event: FeedEvent }) {
  const alertId = typeof event.detail?.alert_id === "string" ? event.detail.alert_id : null;
  if (event.kind === "alert" && alertId)
    return (
      <Anchor component={Link} to={`/alerts/${encodeURIComponent(alertId)}`} size="sm">
        {event.summary}
      </Anchor>
    );
  return <Text size="sm">{event.summary}</Text>;
}

function RecentEvents({ events }: { events: FeedEvent[] }) {
  if (events.length === 0) return <EmptyState title="No recent events">Alert steps and devices going online or offline appear here.</EmptyState>;
  return (
    <Stack gap={0} data-testid="recent-events">
      {events.map((e) => (
        <Group key={e.id} wrap="nowrap" align="flex-start" gap="sm" py={6} style={{ borderTop: "1px solid var(--mantine-color-default-border)" }}>
          <Tooltip label={formatTime(e.at)}>
            <Text size="xs" c="dimmed" w={96} style={{ flexShrink: 0 }}>
              {timeAgo(e.at)}
            </Text>
          </Tooltip>
          <Stack gap={2} style={{ flex: 1, minWidth: 0 }}>
            <Group gap={6}>
              {e.kind === "alert" ? <Badge variant="outline">{e.event.replace(/_/g, " ")}</Badge> : <StatusBadge status={e.event} />}
              {e.severity && <SeverityBadge severity={e.severity} />}
              {e.device_id && (
                <Anchor component={Link} to={`/devices/${encodeURIComponent(e.device_id)}`} size="sm">
                  {e.device_id}
                </Anchor>
              )}
            </Group>
            <EventLink event={e} />
          </Stack>
        </Group>
      ))}
    </Stack>
  );
}

export function DashboardPage() {
  const api = useApi();
  const dashboard = useQuery({
    queryKey: ["dashboard"],
    queryFn: () => unwrap(api.GET("/api/v1/dashboard")),
    refetchInterval: LIVE_REFRESH_MS,
  });
  return (
    <>
      <PageHeader
        title="Dashboard"
        description={dashboard.data ? `As of ${formatTime(dashboard.data.generated_at)}; refreshes by itself.` : "Your devices, open alerts and message rate now."}
      />
      <QueryState query={dashboard}>
        {(d) => (
          <Stack gap="lg">
            <StatGroup
              title="Devices"
              stats={[
                { key: "total", label: "Active devices", value: d.devices.total, to: ACTIVE },
                { key: "online", label: "Online", value: d.devices.online, color: "green", to: `${ACTIVE}&sort=last_seen_at&order=desc` },
                { key: "stale", label: "Stale", value: d.devices.stale, color: "yellow.7", to: `${ACTIVE}&sort=last_seen_at` },
                { key: "offline", label: "Offline", value: d.devices.offline, color: "red", to: `${ACTIVE}&sort=last_seen_at` },
                { key: "never", label: "Never heard from", value: d.devices.never, color: "gray", to: `${ACTIVE}&sort=last_seen_at` },
              ]}
            />
            <StatGroup
              title="Open alerts"
              stats={[
                { key: "total", label: "All open", value: d.open_alerts.total, to: openAlertsLink() },
                ...SEVERITIES.map((s) => ({ key: s, label: s, value: d.open_alerts[s], color: SEVERITY_COLORS[s], to: openAlertsLink(s) })),
              ]}
            />
            <SimpleGrid cols={{ base: 1, lg: 2 }}>
              <Paper withBorder p="sm">
                <Group justify="space-between" mb="xs">
                  <Title order={4}>Ingest</Title>
                  <Text size="sm">
                    <strong data-testid="ingest-now">{formatNumber(d.ingest.per_second_now, 2)}</strong> msg/s now
                  </Text>
                </Group>
                <Chart label="Messages received per minute, last 60 minutes" option={ingestOption(d.ingest)} height={240} />
              </Paper>
              <Paper withBorder p="sm">
                <Title order={4} mb="xs">
                  Recent events
                </Title>
                <RecentEvents events={d.recent_events} />
              </Paper>
            </SimpleGrid>
          </Stack>
        )}
      </QueryState>
    </>
  );
}
