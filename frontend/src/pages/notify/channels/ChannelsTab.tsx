import { ActionIcon, Badge, Button, Group, Modal, Table, Text, Tooltip } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconKey, IconPlus, IconSend } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { RowActions } from "../../../components/actions";
import { showWriteError } from "../../../components/forms";
import { formatTime } from "../../../components/format";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { ifMatch, type Channel, type TestResult } from "../shared";
import { TestResultView } from "../TestResultView";
import { ChannelEditor } from "./ChannelEditor";
import { CHANNEL_TYPES } from "./channelTypes";
import { RotateSecret } from "./RotateSecret";

const typeLabel = (type: string) => CHANNEL_TYPES.find((t) => t.value === type)?.label ?? type;

function SecretCell({ channel }: { channel: Channel }) {
  if (channel.secret_rotation.rotating) {
    return <Badge color="yellow" variant="light">rotating until {formatTime(channel.secret_rotation.previous_valid_until)}</Badge>;
  }
  return channel.secret_set ? <Badge variant="light">set</Badge> : <Text size="sm" c="dimmed">none</Text>;
}

export function ChannelsTab() {
  const api = useApi();
  const client = useQueryClient();
  const [editing, setEditing] = useState<Channel | null | undefined>(undefined);
  const [rotating, setRotating] = useState<Channel | null>(null);
  const [tested, setTested] = useState<{ channel: Channel; result: TestResult } | null>(null);
  const paged = usePagedQuery(["channels"], (cursor) => unwrap(api.GET("/api/v1/channels", { params: { query: { cursor, limit: 50 } } })));

  const test = useMutation({
    mutationFn: (channel: Channel) => unwrap(api.POST("/api/v1/channels/{channel_id}/test", { params: { path: { channel_id: channel.id } } })),
    onSuccess: (result, channel) => {
      setTested({ channel, result });
      void client.invalidateQueries({ queryKey: ["deliveries"] });
    },
    onError: (error) => showWriteError(error),
  });
  const remove = useMutation({
    mutationFn: (channel: Channel) =>
      unwrap(api.DELETE("/api/v1/channels/{channel_id}", { params: { path: { channel_id: channel.id }, header: ifMatch(channel.version) } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["channels"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (channel: Channel) =>
    modals.openConfirmModal({
      title: `Delete channel ${channel.name}?`,
      children: "Its sealed secrets are destroyed. A channel that routes or escalation policies use cannot be deleted.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(channel),
    });

  return (
    <>
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Text size="sm" c="dimmed">
          Where notifications go. Secrets are write-only: they are sealed when saved and never shown again.
        </Text>
        <WriteOnly>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing(null)}>
            New channel
          </Button>
        </WriteOnly>
      </Group>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No channels yet">Create a channel, then a route that sends alerts to it.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Enabled</Table.Th>
                  <Table.Th>Secret</Table.Th>
                  <Table.Th>Updated</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((channel) => (
                  <Table.Tr key={channel.id}>
                    <Table.Td>{channel.name}</Table.Td>
                    <Table.Td>{typeLabel(channel.type)}</Table.Td>
                    <Table.Td>{channel.enabled ? <Badge color="green" variant="light">enabled</Badge> : <Badge color="gray" variant="light">disabled</Badge>}</Table.Td>
                    <Table.Td>
                      <SecretCell channel={channel} />
                    </Table.Td>
                    <Table.Td>{formatTime(channel.updated_at)}</Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <RowActions name={channel.name} onEdit={() => setEditing(channel)} onDelete={() => confirmDelete(channel)}>
                          <Button
                            size="xs"
                            variant="light"
                            leftSection={<IconSend size={14} />}
                            loading={test.isPending && test.variables?.id === channel.id}
                            onClick={() => test.mutate(channel)}
                            aria-label={`Send test to ${channel.name}`}
                          >
                            Send test
                          </Button>
                          {channel.type === "webhook" && (
                            <Tooltip label="Rotate signing secret">
                              <ActionIcon variant="subtle" aria-label={`Rotate secret of ${channel.name}`} onClick={() => setRotating(channel)}>
                                <IconKey size={16} />
                              </ActionIcon>
                            </Tooltip>
                          )}
                        </RowActions>
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
      <Modal size="lg" opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.name}` : "New channel"}>
        {editing !== undefined && <ChannelEditor channel={editing} onClose={() => setEditing(undefined)} />}
      </Modal>
      <Modal opened={!!rotating} onClose={() => setRotating(null)} title={rotating ? `Rotate the signing secret of ${rotating.name}` : ""}>
        {rotating && <RotateSecret channel={rotating} onClose={() => setRotating(null)} />}
      </Modal>
      <Modal size="lg" opened={!!tested} onClose={() => setTested(null)} title="Send test">
        {tested && <TestResultView result={tested.result} target={tested.channel.name} />}
      </Modal>
    </>
  );
}
