import { Badge, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { formatNumber, formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, ProblemAlert, QueryState } from "../../components/QueryState";
import { STATUS_MEANING, SubscriptionStatusBadge } from "./subscriptionStatus";

type Plan = components["schemas"]["Plan"];
type Subscription = components["schemas"]["Subscription"];
type Tenant = components["schemas"]["Tenant"];

/** Share of a limit in use, and the colour that warns before it is reached. */
export function usageColor(percent: number): string {
  if (percent >= 90) return "red";
  if (percent >= 75) return "yellow";
  return "blue";
}

function UsageBar({ label, used, limit }: { label: string; used: number | undefined; limit: number | null }) {
  if (limit === null) {
    return (
      <Stack gap={2}>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Text size="sm" c="dimmed">
          {formatNumber(used)} used · no limit
        </Text>
      </Stack>
    );
  }
  const percent = used === undefined || limit === 0 ? 0 : Math.min(100, (used / limit) * 100);
  return (
    <Stack gap={4}>
      <Group justify="space-between">
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Text size="sm" c="dimmed">
          {formatNumber(used)} of {formatNumber(limit)} ({formatNumber(percent)}%)
        </Text>
      </Group>
      <Progress value={percent} color={usageColor(percent)} size="lg" aria-label={`${label} usage`} />
    </Stack>
  );
}

function Limit({ label, value, unit }: { label: string; value: number | null; unit: string }) {
  return (
    <Group justify="space-between" wrap="nowrap">
      <Text size="sm">{label}</Text>
      <Text size="sm" fw={500}>
        {value === null ? "no limit" : `${formatNumber(value)} ${unit}`}
      </Text>
    </Group>
  );
}

function PlanCard({ subscription, tenant, plan }: { subscription: Subscription; tenant: Tenant; plan: Plan | undefined }) {
  const ended = new Date(subscription.ends_at).getTime() < Date.now();
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
          Current plan
        </Text>
        <Group gap="sm">
          <Title order={3}>{plan?.name ?? subscription.plan_id}</Title>
          <SubscriptionStatusBadge status={subscription.status} />
          {subscription.is_trial && <Badge variant="outline">trial</Badge>}
        </Group>
        <Text size="sm">{STATUS_MEANING[subscription.status]}</Text>
        <Text size="sm" c="dimmed">
          {tenant.name} ({tenant.id}) · since {formatTime(subscription.started_at)}
        </Text>
        <Text size="sm">
          {ended ? "Paid period ended" : subscription.is_trial ? "Trial ends" : "Paid until"} <b>{formatTime(subscription.ends_at)}</b> ({timeAgo(subscription.ends_at)})
        </Text>
        {plan && (
          <Text size="xs" c="dimmed">
            After the end: {plan.grace_days} grace days, then {plan.suspension_days} days suspended before the subscription expires.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function PlansTable({ plans, current }: { plans: Plan[]; current: string }) {
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Plan</Table.Th>
            <Table.Th ta="right">Devices</Table.Th>
            <Table.Th ta="right">Messages / device / min</Table.Th>
            <Table.Th ta="right">API requests / min</Table.Th>
            <Table.Th ta="right">Retention (days)</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plans.map((p) => (
            <Table.Tr key={p.id} bg={p.id === current ? "var(--mantine-color-blue-light)" : undefined}>
              <Table.Td>
                {p.name} {p.id === current && <Badge size="xs">current</Badge>}
              </Table.Td>
              <Table.Td ta="right">{formatNumber(p.device_limit)}</Table.Td>
              <Table.Td ta="right">{formatNumber(p.device_rate_per_minute)}</Table.Td>
              <Table.Td ta="right">{formatNumber(p.api_rate_per_minute)}</Table.Td>
              <Table.Td ta="right">{formatNumber(p.retention_days)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function EventsTable() {
  const api = useApi();
  const paged = usePagedQuery(["subscription", "events"], (cursor) =>
    unwrap(api.GET("/api/v1/subscription/events", { params: { query: { cursor, limit: 25 } } })),
  );
  return (
    <>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No subscription events yet" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Plan</Table.Th>
                  <Table.Th>Ends</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>Detail</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(e.at)}</Table.Td>
                    <Table.Td>{e.action}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        {e.from_status && <SubscriptionStatusBadge status={e.from_status} />}
                        {e.from_status && <Text size="xs">→</Text>}
                        <SubscriptionStatusBadge status={e.to_status} />
                      </Group>
                    </Table.Td>
                    <Table.Td>{e.plan_id}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(e.ends_at)}</Table.Td>
                    <Table.Td>{e.actor}</Table.Td>
                    <Table.Td>{e.detail || "—"}</Table.Td>
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

export function SubscriptionPage() {
  const api = useApi();
  const subscription = useQuery({ queryKey: ["subscription"], queryFn: () => unwrap(api.GET("/api/v1/subscription")) });
  const tenant = useQuery({ queryKey: ["tenant"], queryFn: () => unwrap(api.GET("/api/v1/tenant")) });
  const plans = useQuery({ queryKey: ["plans"], queryFn: () => unwrap(api.GET("/api/v1/plans")), staleTime: 5 * 60_000 });
  // What the device limit counts: every device that is not decommissioned.
  const devices = useQuery({
    queryKey: ["devices", "counts", "billable"],
    queryFn: () => unwrap(api.GET("/api/v1/devices/counts", { params: { query: { status: ["active", "revoked"] } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const both = {
    data: subscription.data && tenant.data ? { subscription: subscription.data, tenant: tenant.data } : undefined,
    isPending: subscription.isPending || tenant.isPending,
    isError: subscription.isError || tenant.isError,
    error: subscription.error ?? tenant.error,
    refetch: () => Promise.all([subscription.refetch(), tenant.refetch()]),
  };

  return (
    <>
      <PageHeader title="Subscription" description="Your plan, what it allows and how much of it is in use. Plan changes are made by the Pulse operators." />
      <QueryState query={both}>
        {({ subscription: sub, tenant: t }) => {
          const plan = plans.data?.find((p) => p.id === sub.plan_id);
          return (
            <Stack gap="md">
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <PlanCard subscription={sub} tenant={t} plan={plan} />
                <Card withBorder>
                  <Stack gap="sm">
                    <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                      Usage and limits
                    </Text>
                    {devices.isError ? (
                      <ProblemAlert error={devices.error} title="Device count unavailable" />
                    ) : (
                      <UsageBar label="Devices" used={devices.data?.total} limit={t.device_limit} />
                    )}
                    <Limit label="Messages per device per minute" value={t.device_rate_per_minute} unit="msg/min" />
                    <Limit label="API requests per minute" value={t.api_rate_per_minute} unit="req/min" />
                    <Limit label="Telemetry retention" value={t.retention_days} unit="days" />
                  </Stack>
                </Card>
              </SimpleGrid>
              <Title order={4}>Plans</Title>
              {plans.isError ? <ProblemAlert error={plans.error} onRetry={() => void plans.refetch()} /> : <PlansTable plans={plans.data ?? []} current={sub.plan_id} />}
              <Title order={4}>History</Title>
              <EventsTable />
            </Stack>
          );
        }}
      </QueryState>
    </>
  );
}
