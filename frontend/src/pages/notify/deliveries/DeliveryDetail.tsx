import { Code, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { StatusBadge } from "../../../components/badges";
import { formatTime } from "../../../components/format";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { QueryState } from "../../../components/QueryState";

/** One delivery with every attempt, first to last (redrives included), and the events it carried. */
export function DeliveryDetail({ deliveryId, channelName }: { deliveryId: string; channelName: (id: string) => string }) {
  const api = useApi();
  const query = useQuery({
    queryKey: ["deliveries", "detail", deliveryId],
    queryFn: () => unwrap(api.GET("/api/v1/deliveries/{delivery_id}", { params: { path: { delivery_id: deliveryId } } })),
    refetchInterval: (q) => (q.state.data && ["delivered", "dead", "suppressed", "throttled", "quota_exceeded"].includes(q.state.data.status) ? false : LIVE_REFRESH_MS),
  });
  return (
    <QueryState query={query}>
      {(d) => (
        <Stack>
          <Group gap="lg" wrap="wrap">
            <Group gap={4}>
              <Text size="sm">Status</Text>
              <StatusBadge status={d.status} />
            </Group>
            <Text size="sm">Channel: {channelName(d.channel_id)}</Text>
            <Text size="sm">Event: {d.event_name}</Text>
            <Text size="sm">Attempts: {d.attempts}</Text>
          </Group>
          <Group gap="lg" wrap="wrap">
            <Text size="sm">Created {formatTime(d.created_at)}</Text>
            <Text size="sm">Send at {formatTime(d.send_at)}</Text>
            {d.delivered_at && <Text size="sm">Delivered {formatTime(d.delivered_at)}</Text>}
            {d.dead_at && <Text size="sm">Dead {formatTime(d.dead_at)}</Text>}
          </Group>
          <Text size="sm">Reason: {d.reason}</Text>
          {d.alert_id && <Text size="sm">Alert: {d.alert_id}</Text>}
          {d.last_error && (
            <Text size="sm" c="red">
              Last error: {d.last_error}
            </Text>
          )}
          <Title order={5}>Attempts</Title>
          {d.history.length === 0 ? (
            <Text size="sm" c="dimmed">
              No attempt yet.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={560}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>#</Table.Th>
                    <Table.Th>Started</Table.Th>
                    <Table.Th>Result</Table.Th>
                    <Table.Th>Code</Table.Th>
                    <Table.Th>Latency</Table.Th>
                    <Table.Th>Error</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.history.map((a) => (
                    <Table.Tr key={`${a.workflow_attempt}-${a.attempt_no}`} data-testid="attempt-row">
                      <Table.Td>
                        {a.attempt_no}
                        {a.workflow_attempt > 1 ? ` (run ${a.workflow_attempt})` : ""}
                      </Table.Td>
                      <Table.Td>{formatTime(a.started_at)}</Table.Td>
                      <Table.Td>
                        <StatusBadge status={a.status} />
                      </Table.Td>
                      <Table.Td>{a.response_code ?? "—"}</Table.Td>
                      <Table.Td>{a.latency_ms === null ? "—" : `${a.latency_ms} ms`}</Table.Td>
                      <Table.Td>{a.error ?? ""}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {d.events.length > 0 && (
            <>
              <Title order={5}>Events carried ({d.events.length})</Title>
              <Code block>{JSON.stringify(d.events, null, 2)}</Code>
            </>
          )}
        </Stack>
      )}
    </QueryState>
  );
}
