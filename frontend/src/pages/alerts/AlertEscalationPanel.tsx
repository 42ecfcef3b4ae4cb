import { Badge, Group, List, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useApi } from "../../auth/SessionProvider";
import { formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { EmptyState, QueryState } from "../../components/QueryState";

const PHASE_COLORS: Record<string, string> = { escalating: "red", acknowledged: "yellow", snoozed: "grape", exhausted: "orange", done: "gray" };

/** One policy step as people read it (pulse.escalation.models: wait, notify_users, notify_on_call, notify_channels, raise_severity). */
export function describeStep(step: Record<string, unknown>): string {
  const list = (v: unknown) => (Array.isArray(v) ? v.join(", ") : String(v ?? ""));
  switch (step.kind) {
    case "wait":
      return `wait ${String(step.minutes)} min`;
    case "notify_users":
      return `notify ${list(step.usernames)}`;
    case "notify_on_call":
      return `notify whoever is on call in ${String(step.schedule_id)}`;
    case "notify_channels":
      return `notify channels ${list(step.channel_ids)}`;
    case "raise_severity":
      return `raise severity to ${String(step.severity)}`;
    default:
      return JSON.stringify(step);
  }
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
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

/** GET /alerts/{id}/escalation: where the alert's escalation stands (a 404 means no route escalates it). */
export function AlertEscalationPanel({ alertId }: { alertId: string }) {
  const api = useApi();
  const query = useQuery({
    queryKey: ["alert", alertId, "escalation"],
    queryFn: () => unwrap(api.GET("/api/v1/alerts/{alert_id}/escalation", { params: { path: { alert_id: alertId } } })).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }),
    refetchInterval: LIVE_REFRESH_MS,
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="alert-escalation-heading">
      <Title order={3} id="alert-escalation-heading" mb="sm">
        Escalation
      </Title>
      <QueryState query={query} isEmpty={(d) => d === null} empty={<EmptyState title="No escalation">No notification route with an escalation policy took this alert.</EmptyState>}>
        {(esc) =>
          esc && (
            <Stack>
              <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
                <Fact label="Policy">{esc.policy_name ?? esc.policy_id}</Fact>
                <Fact label="Phase">
                  <Badge color={PHASE_COLORS[esc.phase] ?? "gray"} variant="light">
                    {esc.phase}
                  </Badge>
                </Fact>
                <Fact label="Current step">
                  {esc.position > 0 && esc.steps[esc.position - 1]
                    ? `${esc.position} of ${esc.steps.length}: ${describeStep(esc.steps[esc.position - 1])}`
                    : `not started (${esc.steps.length} steps)`}
                </Fact>
                <Fact label="Next step due">
                  {esc.next_step_due_at ? (
                    <>
                      {esc.steps[esc.position] ? `${describeStep(esc.steps[esc.position])} — ` : ""}
                      {formatTime(esc.next_step_due_at)} ({timeAgo(esc.next_step_due_at)})
                    </>
                  ) : (
                    "none"
                  )}
                </Fact>
                <Fact label="Repeat">{esc.repeat}</Fact>
                <Fact label="Reminders sent">{esc.reminders}</Fact>
                <Fact label="Next reminder">{esc.next_due_at ? formatTime(esc.next_due_at) : "none"}</Fact>
                <Fact label="Started">{formatTime(esc.started_at)}</Fact>
              </SimpleGrid>
              {esc.ended_reason && <Text size="sm">Ended: {esc.ended_reason}</Text>}
              <Group align="flex-start" gap="xl" wrap="wrap">
                <Stack gap={4}>
                  <Text size="sm" fw={500}>
                    Steps
                  </Text>
                  <List type="ordered" size="sm">
                    {esc.steps.map((step, i) => (
                      <List.Item key={i} fw={i === esc.position ? 600 : undefined}>
                        {describeStep(step)}
                        {i === esc.position && esc.status === "active" ? " (next)" : ""}
                      </List.Item>
                    ))}
                  </List>
                </Stack>
              </Group>
              {esc.done.length > 0 && (
                <Table.ScrollContainer minWidth={560}>
                  <Table>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Done at</Table.Th>
                        <Table.Th>What</Table.Th>
                        <Table.Th>Step</Table.Th>
                        <Table.Th>Targets</Table.Th>
                        <Table.Th>Deliveries</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {esc.done.map((d) => (
                        <Table.Tr key={d.key}>
                          <Table.Td>{formatTime(d.at)}</Table.Td>
                          <Table.Td>
                            {d.kind}
                            {d.note ? ` — ${d.note}` : ""}
                          </Table.Td>
                          <Table.Td>{d.step === null ? "—" : `${d.step + 1}${d.repeat ? ` (repeat ${d.repeat})` : ""}`}</Table.Td>
                          <Table.Td>{(d.targets ?? []).join(", ") || "—"}</Table.Td>
                          <Table.Td>{d.deliveries ?? 0}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Stack>
          )
        }
      </QueryState>
    </Paper>
  );
}
