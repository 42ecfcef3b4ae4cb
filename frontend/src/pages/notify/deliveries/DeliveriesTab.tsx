import { Button, Drawer, Group, MultiSelect, Select, Table, Text } from "@mantine/core";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { StatusBadge } from "../../../components/badges";
import { formatTime, timeAgo } from "../../../components/format";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { channelOptions, useAllChannels, type DeliveryStatus } from "../shared";
import { DeliveryDetail } from "./DeliveryDetail";

const STATUSES: DeliveryStatus[] = ["pending", "sending", "delivered", "dead", "suppressed", "throttled", "quota_exceeded"];

/** The delivery log, newest first, refreshing live; a row opens the delivery with its attempts. */
export function DeliveriesTab() {
  const api = useApi();
  const channels = useAllChannels();
  const [status, setStatus] = useState<string[]>([]);
  const [channelId, setChannelId] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const channelName = (id: string) => channels.data?.find((c) => c.id === id)?.name ?? id;
  const paged = usePagedQuery(
    ["deliveries", { status, channelId }],
    (cursor) =>
      unwrap(
        api.GET("/api/v1/deliveries", {
          params: { query: { cursor, limit: 50, status: status.length ? (status as DeliveryStatus[]) : undefined, channel_id: channelId ?? undefined } },
        }),
      ),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  return (
    <>
      <Group mb="sm" wrap="wrap" align="flex-end">
        <MultiSelect label="Status" data={STATUSES} value={status} onChange={setStatus} placeholder="any status" clearable w={300} />
        <Select label="Channel" data={channelOptions(channels.data)} value={channelId} onChange={setChannelId} placeholder="any channel" clearable searchable w={260} />
      </Group>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No deliveries">Nothing was sent that matches these filters.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={820}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Channel</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Attempts</Table.Th>
                  <Table.Th>Last error</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((d) => (
                  <Table.Tr key={d.id} data-testid="delivery-row">
                    <Table.Td title={formatTime(d.created_at)}>{timeAgo(d.created_at)}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={d.status} />
                    </Table.Td>
                    <Table.Td>{channelName(d.channel_id)}</Table.Td>
                    <Table.Td>{d.event_name}</Table.Td>
                    <Table.Td>{d.attempts}</Table.Td>
                    <Table.Td>
                      <Text size="sm" lineClamp={1} maw={260}>
                        {d.last_error ?? (d.last_response_code ? `HTTP ${d.last_response_code}` : "")}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="subtle" onClick={() => setOpen(d.id)} aria-label={`Attempts of delivery ${d.id}`}>
                        Attempts
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      <Drawer opened={!!open} onClose={() => setOpen(null)} position="right" size="xl" title={`Delivery ${open ?? ""}`}>
        {open && <DeliveryDetail deliveryId={open} channelName={channelName} />}
      </Drawer>
    </>
  );
}
