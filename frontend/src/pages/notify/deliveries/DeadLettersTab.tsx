import { Alert, Button, Checkbox, Group, Select, Table, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconRefresh } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { showWriteError } from "../../../components/forms";
import { formatTime } from "../../../components/format";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { channelOptions, useAllChannels } from "../shared";

type RedriveIn = components["schemas"]["RedriveIn"];
type RedriveResult = components["schemas"]["RedriveResult"];

/** Deliveries that will not be tried again; an administrator redrives the selected (or all matching). */
export function DeadLettersTab() {
  const api = useApi();
  const { canWrite } = useSession();
  const client = useQueryClient();
  const channels = useAllChannels();
  const [channelId, setChannelId] = useState<string | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [result, setResult] = useState<RedriveResult | null>(null);
  const channelName = (id: string) => channels.data?.find((c) => c.id === id)?.name ?? id;
  const paged = usePagedQuery(
    ["dead-letters", { channelId }],
    (cursor) => unwrap(api.GET("/api/v1/dead-letters", { params: { query: { cursor, limit: 50, channel_id: channelId ?? undefined } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  useEffect(() => setSelected([]), [channelId, paged.pageNumber]);
  const redrive = useMutation({
    mutationFn: (body: RedriveIn) => unwrap(api.POST("/api/v1/dead-letters/redrive", { body })),
    onSuccess: (answer) => {
      setResult(answer);
      setSelected([]);
      void client.invalidateQueries({ queryKey: ["dead-letters"] });
      void client.invalidateQueries({ queryKey: ["deliveries"] });
    },
    onError: (error) => showWriteError(error),
  });
  const redriveAll = () =>
    modals.openConfirmModal({
      title: "Redrive every dead letter matching the filter?",
      children: `Every dead delivery${channelId ? ` of ${channelName(channelId)}` : ""} (at most 1000) is reset and sent again.`,
      labels: { confirm: "Redrive all", cancel: "Cancel" },
      onConfirm: () => redrive.mutate({ all_matching: { channel_id: channelId } }),
    });
  const toggle = (id: string, on: boolean) => setSelected((s) => (on ? [...s, id] : s.filter((x) => x !== id)));

  return (
    <>
      <Group mb="sm" wrap="wrap" align="flex-end" justify="space-between">
        <Select label="Channel" data={channelOptions(channels.data)} value={channelId} onChange={setChannelId} placeholder="any channel" clearable searchable w={260} />
        <WriteOnly>
          <Group gap="xs">
            <Button leftSection={<IconRefresh size={16} />} disabled={selected.length === 0} loading={redrive.isPending} onClick={() => redrive.mutate({ ids: selected })}>
              Redrive selected ({selected.length})
            </Button>
            <Button variant="default" onClick={redriveAll} disabled={redrive.isPending}>
              Redrive all matching
            </Button>
          </Group>
        </WriteOnly>
      </Group>
      {result && (
        <Alert color="green" title="Redrive started" mb="sm" withCloseButton onClose={() => setResult(null)} data-testid="redrive-result">
          {result.count} dead {result.count === 1 ? "delivery was" : "deliveries were"} reset to pending and started again ({result.execution_ids.length}{" "}
          {result.execution_ids.length === 1 ? "workflow" : "workflows"}).
        </Alert>
      )}
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No dead letters">Every delivery got through or is still being tried.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={760}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  {canWrite && (
                    <Table.Th w={40}>
                      <Checkbox
                        aria-label="Select every dead letter on this page"
                        checked={page.items.length > 0 && page.items.every((d) => selected.includes(d.id))}
                        indeterminate={selected.length > 0 && !page.items.every((d) => selected.includes(d.id))}
                        onChange={(e) => setSelected(e.currentTarget.checked ? page.items.map((d) => d.id) : [])}
                      />
                    </Table.Th>
                  )}
                  <Table.Th>Dead at</Table.Th>
                  <Table.Th>Channel</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Attempts</Table.Th>
                  <Table.Th>Last error</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((d) => (
                  <Table.Tr key={d.id} data-testid="dead-letter-row">
                    {canWrite && (
                      <Table.Td>
                        <Checkbox aria-label={`Select delivery ${d.id}`} checked={selected.includes(d.id)} onChange={(e) => toggle(d.id, e.currentTarget.checked)} />
                      </Table.Td>
                    )}
                    <Table.Td>{formatTime(d.dead_at)}</Table.Td>
                    <Table.Td>{channelName(d.channel_id)}</Table.Td>
                    <Table.Td>{d.event_name}</Table.Td>
                    <Table.Td>{d.attempts}</Table.Td>
                    <Table.Td>
                      <Text size="sm">{d.last_error ?? (d.last_response_code ? `HTTP ${d.last_response_code}` : "—")}</Text>
                    </Table.Td>
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
