import { Badge, Button, Group, Modal, MultiSelect, Progress, Select, Stack, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { formatNumber, formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { usageColor } from "../account/SubscriptionPage";
import { SUBSCRIPTION_STATUSES, SubscriptionStatusBadge, type SubscriptionStatus } from "../account/subscriptionStatus";
import { SubscriptionEditor } from "./SubscriptionEditor";

type OperatorSubscription = components["schemas"]["OperatorSubscription"];

const limit = (value: number | null) => (value === null ? "∞" : formatNumber(value));

function DeviceUsage({ s }: { s: OperatorSubscription }) {
  const max = s.limits.device_limit;
  if (max === null) return <Text size="sm">{formatNumber(s.devices)} / no limit</Text>;
  const percent = max === 0 ? 100 : Math.min(100, (100 * s.devices) / max);
  return (
    <Stack gap={2} miw={120}>
      <Text size="sm">
        {formatNumber(s.devices)} / {formatNumber(max)}
      </Text>
      <Progress value={percent} color={usageColor(percent)} size="sm" aria-label={`${s.tenant_name} devices used`} />
    </Stack>
  );
}

export function SubscriptionsPage() {
  const api = useApi();
  const [status, setStatus] = useState<SubscriptionStatus[]>([]);
  const [plan, setPlan] = useState<string | null>(null);
  const [editing, setEditing] = useState<OperatorSubscription | null>(null);
  const plans = useQuery({ queryKey: ["plans"], queryFn: () => unwrap(api.GET("/api/v1/plans")), staleTime: 5 * 60_000 });
  const paged = usePagedQuery(
    ["operator", "subscriptions", { status, plan }],
    (cursor) => unwrap(api.GET("/api/v1/operator/subscriptions", { params: { query: { status, plan_id: plan ?? undefined, cursor, limit: 100 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );

  return (
    <>
      <PageHeader title="Subscriptions" description="Every tenant's plan, status, paid period and limits. The status follows from the dates; change the plan or the end of the paid period." />
      <Group align="flex-end" gap="xs" mb="md" wrap="wrap">
        <MultiSelect label="Status" placeholder="any" data={SUBSCRIPTION_STATUSES} value={status} onChange={(v) => setStatus(v as SubscriptionStatus[])} clearable w={260} />
        <Select label="Plan" placeholder="any" data={(plans.data ?? []).map((p) => ({ value: p.id, label: p.name }))} value={plan} onChange={setPlan} clearable w={200} />
      </Group>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No subscriptions match" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={980}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Tenant</Table.Th>
                  <Table.Th>Plan and status</Table.Th>
                  <Table.Th>Paid period</Table.Th>
                  <Table.Th>Devices</Table.Th>
                  <Table.Th>Rates and retention</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((s) => (
                  <Table.Tr key={s.tenant_id}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Text size="sm" fw={500}>
                        {s.tenant_name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {s.tenant_id}
                      </Text>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Text size="sm">{s.plan_name}</Text>
                      <Group gap={4} wrap="nowrap">
                        <SubscriptionStatusBadge status={s.status} />
                        {s.is_trial && s.status !== "trial" && (
                          <Badge variant="outline" size="sm">
                            trial
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Text size="sm">
                        {formatTime(s.started_at).slice(0, 10)} → {formatTime(s.ends_at).slice(0, 10)}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {new Date(s.ends_at).getTime() < Date.now() ? "ended" : "ends"} {timeAgo(s.ends_at)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <DeviceUsage s={s} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <Text size="sm">
                        {limit(s.limits.device_rate_per_minute)} msg/device/min · {limit(s.limits.api_rate_per_minute)} API req/min
                      </Text>
                      <Text size="xs" c="dimmed">
                        telemetry kept {limit(s.limits.retention_days)} days
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <Button size="xs" variant="light" aria-label={`Change subscription of ${s.tenant_name}`} onClick={() => setEditing(s)}>
                          Change
                        </Button>
                      </WriteOnly>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing ? `Subscription of ${editing.tenant_name}` : ""}>
        {editing && <SubscriptionEditor subscription={editing} onClose={() => setEditing(null)} />}
      </Modal>
    </>
  );
}
