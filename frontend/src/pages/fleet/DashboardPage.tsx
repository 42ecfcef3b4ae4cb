import { Anchor, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { SeverityBadge, StatusBadge } from "../../components/badges";
import { timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, QueryState } from "../../components/QueryState";
import { OPEN_STATES, SEVERITIES, SEVERITY_COLORS, StatGroup, openAlertsLink } from "./dashboard/cards";
import { DEVICE_STATUSES } from "./fleetFilter";

const OPEN_ALERTS_LIMIT = 500;

export function DashboardPage() {
  const api = useApi();
  const counts = useQuery({
    queryKey: ["devices", "counts", {}],
    queryFn: () => unwrap(api.GET("/api/v1/devices/counts")),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const alerts = useQuery({
    queryKey: ["alerts", "dashboard-open"],
    queryFn: () => unwrap(api.GET("/api/v1/alerts", { params: { query: { state: [...OPEN_STATES], limit: OPEN_ALERTS_LIMIT } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });

  return (
    <>
      <PageHeader title="Dashboard" description="Your devices and open alerts now; refreshes by itself." />
      <Stack gap="lg">
        <QueryState query={counts}>
          {(c) => (
            <StatGroup
              title="Devices"
              stats={[
                { key: "total", label: "All devices", value: c.total, to: "/fleet" },
                ...DEVICE_STATUSES.map((s) => ({ key: s, label: s, value: c.by_status[s] ?? 0, to: `/fleet?status=${s}` })),
              ]}
            />
          )}
        </QueryState>
        <QueryState query={alerts}>
          {(page) => {
            const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, page.items.filter((a) => a.severity === s).length]));
            const recent = [...page.items].sort((a, b) => b.updated_at.localeCompare(a.updated_at)).slice(0, 10);
            return (
              <Stack gap="lg">
                <StatGroup
                  title="Open alerts"
                  extra={page.next_cursor ? <Text size="sm" c="dimmed">counting the newest {OPEN_ALERTS_LIMIT}</Text> : undefined}
                  stats={[
                    { key: "total", label: "All open", value: page.items.length, to: openAlertsLink() },
                    ...SEVERITIES.map((s) => ({ key: s, label: s, value: bySeverity[s], color: SEVERITY_COLORS[s], to: openAlertsLink(s) })),
                  ]}
                />
                <Paper withBorder p="sm">
                  <Title order={4} mb="xs">
                    Recent alert activity
                  </Title>
                  {recent.length === 0 ? (
                    <EmptyState title="No open alerts" />
                  ) : (
                    <Table.ScrollContainer minWidth={560}>
                      <Table>
                        <Table.Tbody>
                          {recent.map((a) => (
                            <Table.Tr key={a.id}>
                              <Table.Td>{timeAgo(a.updated_at)}</Table.Td>
                              <Table.Td>
                                <SeverityBadge severity={a.severity} />
                              </Table.Td>
                              <Table.Td>
                                <Anchor component={Link} to={`/alerts/${encodeURIComponent(a.id)}`}>
                                  {a.rule_name}
                                </Anchor>
                              </Table.Td>
                              <Table.Td>
                                <Anchor component={Link} to={`/devices/${encodeURIComponent(a.device_id)}`}>
                                  {a.device_id}
                                </Anchor>
                              </Table.Td>
                              <Table.Td>
                                <StatusBadge status={a.state} />
                              </Table.Td>
                            </Table.Tr>
                          ))}
                        </Table.Tbody>
                      </Table>
                    </Table.ScrollContainer>
                  )}
                </Paper>
              </Stack>
            );
          }}
        </QueryState>
      </Stack>
    </>
  );
}
