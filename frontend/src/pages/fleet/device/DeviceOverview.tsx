import { Badge, Button, Code, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, Title, Tooltip } from "@mantine/core";
import { IconPencil } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { StatusBadge } from "../../../components/badges";
import { formatTime, timeAgo } from "../../../components/format";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import type { Device } from "../shared";
import { DeviceEditForm } from "./DeviceEdit";

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={180}>{label}</Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

const when = (value: string | null | undefined) => (
  <Tooltip label={formatTime(value)} disabled={!value}>
    <span>{value ? `${formatTime(value)} (${timeAgo(value)})` : "—"}</span>
  </Tooltip>
);

function Metadata({ device }: { device: Device }) {
  const [editing, setEditing] = useState(false);
  const tags = Object.entries(device.tags);
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Device</Title>
        <WriteOnly>
          <Button size="xs" variant="light" leftSection={<IconPencil size={14} />} onClick={() => setEditing(true)}>
            Edit device
          </Button>
        </WriteOnly>
      </Group>
      <Table.ScrollContainer minWidth={360}>
        <Table>
          <Table.Tbody>
            <Field label="Id">
              <Code>{device.id}</Code>
            </Field>
            <Field label="Name">{device.name}</Field>
            <Field label="Status">
              <StatusBadge status={device.status} />
            </Field>
            <Field label="Site">{device.site_id ?? "—"}</Field>
            <Field label="Model">{device.model || "—"}</Field>
            <Field label="Firmware">{device.firmware_version || "—"}</Field>
            <Field label="Tags">
              <Group gap={4} wrap="wrap">
                {tags.length === 0 && "—"}
                {tags.map(([k, v]) => (
                  <Badge key={k} variant="outline" tt="none">
                    {k}: {v}
                  </Badge>
                ))}
              </Group>
            </Field>
            <Field label="Heartbeat interval">{device.heartbeat_interval_s} s</Field>
            <Field label="Location">{device.lat !== null && device.lng !== null ? `${device.lat}, ${device.lng}` : "—"}</Field>
            <Field label="Last seen">{when(device.last_seen_at)}</Field>
            <Field label="Created">{formatTime(device.created_at)}</Field>
            <Field label="Updated">
              {formatTime(device.updated_at)} (version {device.version})
            </Field>
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={editing} onClose={() => setEditing(false)} title={`Edit ${device.name}`}>
        {editing && <DeviceEditForm device={device} onClose={() => setEditing(false)} />}
      </Modal>
    </Paper>
  );
}

function ConnectivityCard({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const connectivity = useQuery({
    queryKey: ["devices", "connectivity", deviceId],
    queryFn: () => unwrap(api.GET("/api/v1/devices/{device_id}/connectivity", { params: { path: { device_id: deviceId } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  return (
    <Paper withBorder p="sm">
      <Title order={4} mb="xs">
        Connectivity
      </Title>
      <QueryState query={connectivity}>
        {(c) => (
          <Table>
            <Table.Tbody>
              <Field label="Status">
                <span data-testid="connectivity-status">
                  <StatusBadge status={c.status} />
                </span>
              </Field>
              <Field label="MQTT session">{c.connected === null ? "never connected" : c.connected ? "connected" : "disconnected"}</Field>
              <Field label="Since">{when(c.since)}</Field>
              <Field label="Last message">{when(c.last_seen_at)}</Field>
              <Field label="Stale at">{when(c.stale_at)}</Field>
              <Field label="Offline at">{when(c.offline_at)}</Field>
              {c.last_disconnected_at && (
                <Field label="Last disconnect">
                  {formatTime(c.last_disconnected_at)}
                  {c.last_disconnect_reason ? ` (${c.last_disconnect_reason})` : ""}
                </Field>
              )}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Paper>
  );
}

function ConnectivityHistory({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const paged = usePagedQuery(
    ["devices", "connectivity-history", deviceId],
    (cursor) => unwrap(api.GET("/api/v1/devices/{device_id}/connectivity/history", { params: { path: { device_id: deviceId }, query: { cursor, limit: 20 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  return (
    <Stack gap="xs">
      <Title order={4}>Connectivity history</Title>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No connectivity events yet" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={560}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>At</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Detail</Table.Th>
                  <Table.Th>Session</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>{formatTime(e.at)}</Table.Td>
                    <Table.Td>{e.kind === "status" ? <StatusBadge status={e.status} /> : <Badge variant="outline">{e.kind}</Badge>}</Table.Td>
                    <Table.Td>{e.reason ?? (e.kind === "status" ? `became ${e.status?.toLowerCase()}` : "—")}</Table.Td>
                    <Table.Td>
                      <Text size="xs" c="dimmed">
                        {e.session_id || "—"}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
    </Stack>
  );
}

export function DeviceOverview({ device }: { device: Device }) {
  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Metadata device={device} />
        <ConnectivityCard deviceId={device.id} />
      </SimpleGrid>
      <ConnectivityHistory deviceId={device.id} />
    </Stack>
  );
}
