import { ActionIcon, Badge, Button, Group, Modal, Stack, Table, Text, Tooltip } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconArrowDown, IconArrowUp, IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { RowActions } from "../../../components/actions";
import { showWriteError } from "../../../components/forms";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { collectAll, ifMatch, useAllChannels, type Route } from "../shared";
import { RouteEditor } from "./RouteEditor";

function matcherSummary(route: Route): string[] {
  const m = route.matchers ?? {};
  const parts: string[] = [];
  if (m.events?.length) parts.push(`events: ${m.events.join(", ")}`);
  if (m.severity_at_least) parts.push(`severity ≥ ${m.severity_at_least}`);
  if (m.site_ids?.length) parts.push(`sites: ${m.site_ids.join(", ")}`);
  if (m.rule_ids?.length) parts.push(`rules: ${m.rule_ids.join(", ")}`);
  if (m.device_id_prefixes?.length) parts.push(`devices: ${m.device_id_prefixes.map((p) => `${p}*`).join(", ")}`);
  const tags = Object.entries(m.tags ?? {});
  if (tags.length) parts.push(`tags: ${tags.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  return parts.length ? parts : ["every alert event"];
}

function timing(route: Route): string[] {
  const parts: string[] = [];
  if (route.group_by?.length) parts.push(`group by ${route.group_by.join(", ")} (wait ${route.group_wait_s ?? 30} s, every ${route.group_interval_s ?? 300} s)`);
  if (route.repeat_interval_s) parts.push(`repeat after ${route.repeat_interval_s} s`);
  if (route.throttle) parts.push(`at most ${route.throttle.limit} per ${route.throttle.window_s} s`);
  return parts;
}

export function RoutesTab() {
  const api = useApi();
  const client = useQueryClient();
  const [editing, setEditing] = useState<Route | null | undefined>(undefined);
  // Reorder names every route, so the whole ordered list is loaded.
  const routes = useQuery({
    queryKey: ["notification-routes"],
    queryFn: () => collectAll((cursor) => unwrap(api.GET("/api/v1/notification-routes", { params: { query: { cursor, limit: 500 } } }))),
  });
  const channels = useAllChannels();
  const policies = useQuery({
    queryKey: ["escalation-policies", "options"],
    queryFn: () => unwrap(api.GET("/api/v1/escalation-policies", { params: { query: { limit: 500 } } })),
  });
  const channelName = (id: string) => channels.data?.find((c) => c.id === id)?.name ?? id;
  const policyName = (id: string) => policies.data?.items.find((p) => p.id === id)?.name ?? id;

  const reorder = useMutation({
    mutationFn: (ids: string[]) => unwrap(api.POST("/api/v1/notification-routes:reorder", { body: { route_ids: ids } })),
    onSuccess: (ordered) => client.setQueryData(["notification-routes"], ordered),
    onError: (error) => {
      showWriteError(error);
      void client.invalidateQueries({ queryKey: ["notification-routes"] });
    },
  });
  const move = (list: Route[], index: number, by: -1 | 1) => {
    const ids = list.map((r) => r.id);
    [ids[index], ids[index + by]] = [ids[index + by], ids[index]];
    reorder.mutate(ids);
  };
  const remove = useMutation({
    mutationFn: (route: Route) =>
      unwrap(api.DELETE("/api/v1/notification-routes/{route_id}", { params: { path: { route_id: route.id }, header: ifMatch(route.version) } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["notification-routes"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (route: Route) =>
    modals.openConfirmModal({
      title: `Delete route ${route.name}?`,
      children: "Alert events it matched go on to the next matching route.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(route),
    });

  return (
    <>
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Text size="sm" c="dimmed">
          Tried top to bottom: the first matching route takes the event unless it says continue.
        </Text>
        <WriteOnly>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing(null)}>
            New route
          </Button>
        </WriteOnly>
      </Group>
      <QueryState query={routes} isEmpty={(list) => list.length === 0} empty={<EmptyState title="No routes yet">Without a route no alert event is sent anywhere.</EmptyState>}>
        {(list) => {
          const ordered = [...list].sort((a, b) => a.position - b.position);
          return (
            <Table.ScrollContainer minWidth={760}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>#</Table.Th>
                    <Table.Th>Route</Table.Th>
                    <Table.Th>Matches</Table.Th>
                    <Table.Th>Sends to</Table.Th>
                    <Table.Th>Timing</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {ordered.map((route, index) => (
                    <Table.Tr key={route.id} data-testid="route-row">
                      <Table.Td>{index + 1}</Table.Td>
                      <Table.Td>
                        <Stack gap={2}>
                          <Text size="sm" fw={500}>
                            {route.name}
                          </Text>
                          <Group gap={4}>
                            {route.enabled === false && <Badge color="gray" variant="light">disabled</Badge>}
                            {route.continue && <Badge variant="light">continue</Badge>}
                          </Group>
                        </Stack>
                      </Table.Td>
                      <Table.Td>
                        {matcherSummary(route).map((line) => (
                          <Text key={line} size="sm">
                            {line}
                          </Text>
                        ))}
                      </Table.Td>
                      <Table.Td>
                        {(route.channel_ids ?? []).map((id) => (
                          <Text key={id} size="sm">
                            {channelName(id)}
                          </Text>
                        ))}
                        {route.escalation_policy_id && <Text size="sm">escalation: {policyName(route.escalation_policy_id)}</Text>}
                      </Table.Td>
                      <Table.Td>
                        {timing(route).map((line) => (
                          <Text key={line} size="sm">
                            {line}
                          </Text>
                        ))}
                      </Table.Td>
                      <Table.Td>
                        <WriteOnly>
                          <RowActions name={route.name} onEdit={() => setEditing(route)} onDelete={() => confirmDelete(route)}>
                            <Tooltip label="Move up">
                              <ActionIcon variant="subtle" aria-label={`Move ${route.name} up`} disabled={index === 0 || reorder.isPending} onClick={() => move(ordered, index, -1)}>
                                <IconArrowUp size={16} />
                              </ActionIcon>
                            </Tooltip>
                            <Tooltip label="Move down">
                              <ActionIcon variant="subtle" aria-label={`Move ${route.name} down`} disabled={index === ordered.length - 1 || reorder.isPending} onClick={() => move(ordered, index, 1)}>
                                <IconArrowDown size={16} />
                              </ActionIcon>
                            </Tooltip>
                          </RowActions>
                        </WriteOnly>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          );
        }}
      </QueryState>
      <Modal size="xl" opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.name}` : "New route"}>
        {editing !== undefined && <RouteEditor route={editing} onClose={() => setEditing(undefined)} />}
      </Modal>
    </>
  );
}
