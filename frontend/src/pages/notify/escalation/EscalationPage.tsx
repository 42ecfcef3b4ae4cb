import { Button, Modal, Stack, Table, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { RowActions } from "../../../components/actions";
import { showWriteError } from "../../../components/forms";
import { formatTime } from "../../../components/format";
import { PageHeader } from "../../../components/PageHeader";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { channelOptions, hhmm, ifMatch, useAllChannels, useAllSchedules, useDirectory, type EscalationPolicy } from "../shared";
import { PolicyEditor } from "./PolicyEditor";
import { stepSummary } from "./policyForm";

export function EscalationPage() {
  const api = useApi();
  const { canWrite } = useSession();
  const client = useQueryClient();
  const [editing, setEditing] = useState<EscalationPolicy | null | undefined>(undefined);
  const channels = useAllChannels();
  const schedules = useAllSchedules();
  const directory = useDirectory();
  const paged = usePagedQuery(["escalation-policies"], (cursor) => unwrap(api.GET("/api/v1/escalation-policies", { params: { query: { cursor, limit: 50 } } })));
  const names = {
    user: directory.label,
    channel: (id: string) => channels.data?.find((c) => c.id === id)?.name ?? id,
    schedule: (id: string) => schedules.data?.find((s) => s.id === id)?.name ?? id,
  };
  const pickers = {
    users: directory.options,
    channels: channelOptions(channels.data),
    schedules: (schedules.data ?? []).map((s) => ({ value: s.id, label: s.name })),
  };
  const remove = useMutation({
    mutationFn: (policy: EscalationPolicy) =>
      unwrap(api.DELETE("/api/v1/escalation-policies/{policy_id}", { params: { path: { policy_id: policy.id }, header: ifMatch(policy.version) } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["escalation-policies"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (policy: EscalationPolicy) =>
    modals.openConfirmModal({
      title: `Delete escalation policy ${policy.name}?`,
      children: "A policy that routes still start cannot be deleted.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(policy),
    });

  return (
    <>
      <PageHeader
        title="Escalation"
        description="Who is paged, in which order, until an alert is acknowledged. Routes start a policy when they take an opened alert."
        actions={
          <WriteOnly>
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing(null)}>
              New policy
            </Button>
          </WriteOnly>
        }
      />
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No escalation policies yet">A policy pages people step by step until someone acknowledges.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={760}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Steps</Table.Th>
                  <Table.Th>Repeats</Table.Th>
                  <Table.Th>Active window</Table.Th>
                  <Table.Th>Reminder</Table.Th>
                  <Table.Th>Updated</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((policy) => (
                  <Table.Tr key={policy.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {policy.name}
                      </Text>
                      {policy.description && (
                        <Text size="xs" c="dimmed">
                          {policy.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Stack gap={0}>
                        {policy.steps.map((step, i) => (
                          <Text key={i} size="sm">
                            {i + 1}. {stepSummary(step, names)}
                          </Text>
                        ))}
                      </Stack>
                    </Table.Td>
                    <Table.Td>{policy.repeat_count ?? 0}</Table.Td>
                    <Table.Td>
                      {policy.active_window
                        ? `${policy.active_window.days?.join(" ") ?? "every day"} ${hhmm(policy.active_window.start)}–${hhmm(policy.active_window.end)} ${policy.timezone ?? "UTC"}`
                        : "always"}
                    </Table.Td>
                    <Table.Td>{policy.reminder ? `every ${policy.reminder.every_minutes} min to ${policy.reminder.channel_ids.map(names.channel).join(", ")}` : "—"}</Table.Td>
                    <Table.Td>{formatTime(policy.updated_at)}</Table.Td>
                    <Table.Td>
                      {canWrite && (
                        <RowActions name={policy.name} onEdit={() => setEditing(policy)} onDelete={() => confirmDelete(policy)} />
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      <Modal size="xl" opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.name}` : "New escalation policy"}>
        {editing !== undefined && <PolicyEditor policy={editing} pickers={pickers} onClose={() => setEditing(undefined)} />}
      </Modal>
    </>
  );
}
