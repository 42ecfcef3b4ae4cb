import { ActionIcon, Alert, Button, Group, Modal, Select, Stack, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showWriteError } from "../../../components/forms";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { showFormError } from "../problems";
import { formatIn, isoToWall, wallToIso, withUnknown, type Schedule } from "../shared";
import type { Range } from "./time";

type Override = components["schemas"]["Override"];

function OverrideForm({ schedule, users, onClose }: { schedule: Schedule; users: { value: string; label: string }[]; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const tz = schedule.timezone;
  const start = isoToWall(new Date().toISOString(), tz).slice(0, 11) + "18:00";
  const [overlaps, setOverlaps] = useState<string[] | null>(null);
  const form = useForm({
    initialValues: { username: "", starts_at: start, ends_at: isoToWall(new Date(new Date(wallToIso(start, tz)).getTime() + 14 * 3_600_000).toISOString(), tz), note: "" },
    validate: {
      username: (v) => (v ? null : "who takes the shift?"),
      ends_at: (v, all) => (v > all.starts_at ? null : "must be after the start"),
    },
  });
  const create = useMutation({
    mutationFn: (v: typeof form.values) =>
      unwrap(
        api.POST("/api/v1/oncall/schedules/{schedule_id}/overrides", {
          params: { path: { schedule_id: schedule.id } },
          body: { username: v.username, starts_at: wallToIso(v.starts_at, tz), ends_at: wallToIso(v.ends_at, tz), note: v.note },
        }),
      ),
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ["oncall", schedule.id] });
      if (created.overlaps.length) setOverlaps(created.overlaps);
      else onClose();
    },
    onError: (error) => showFormError(error, form),
  });
  if (overlaps) {
    return (
      <Stack>
        <Alert color="yellow" title="Override created">
          It overlaps {overlaps.length} earlier {overlaps.length === 1 ? "override" : "overrides"}; where they overlap, this newest one wins.
        </Alert>
        <Group justify="flex-end">
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form onSubmit={form.onSubmit((v) => create.mutate(v))}>
      <Stack>
        <Select label="Who is on call" data={withUnknown(users, [form.values.username])} searchable required {...form.getInputProps("username")} />
        <Group grow>
          <TextInput type="datetime-local" label={`From (${tz})`} required {...form.getInputProps("starts_at")} />
          <TextInput type="datetime-local" label={`Until (${tz})`} required {...form.getInputProps("ends_at")} />
        </Group>
        <TextInput label="Note" {...form.getInputProps("note")} />
        <FormActions onCancel={onClose} submitLabel="Create override" loading={create.isPending} />
      </Stack>
    </form>
  );
}

/** Overrides (and accepted swaps) overlapping the visible range; administrators add and delete them. */
export function Overrides({ schedule, range, users, label }: { schedule: Schedule; range: Range; users: { value: string; label: string }[]; label: (u: string) => string }) {
  const api = useApi();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const tz = schedule.timezone;
  const query = useQuery({
    queryKey: ["oncall", schedule.id, "overrides", range.start, range.end],
    queryFn: () => unwrap(api.GET("/api/v1/oncall/schedules/{schedule_id}/overrides", { params: { path: { schedule_id: schedule.id }, query: { start: range.start, end: range.end } } })),
  });
  const remove = useMutation({
    mutationFn: (o: Override) => unwrap(api.DELETE("/api/v1/oncall/schedules/{schedule_id}/overrides/{override_id}", { params: { path: { schedule_id: schedule.id, override_id: o.id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["oncall", schedule.id] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (o: Override) =>
    modals.openConfirmModal({
      title: `Delete the override for ${label(o.username)}?`,
      children: "The layers decide who is on call again for that time.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(o),
    });
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={4}>Overrides in view</Title>
        <WriteOnly>
          <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setCreating(true)}>
            New override
          </Button>
        </WriteOnly>
      </Group>
      <QueryState query={query} isEmpty={(list) => list.length === 0} empty={<EmptyState title="No overrides in this range" />}>
        {(list) => (
          <Table.ScrollContainer minWidth={600}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Until</Table.Th>
                  <Table.Th>Source</Table.Th>
                  <Table.Th>Note</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((o) => (
                  <Table.Tr key={o.id} data-testid="override-row">
                    <Table.Td>{label(o.username)}</Table.Td>
                    <Table.Td>{formatIn(o.starts_at, tz)}</Table.Td>
                    <Table.Td>{formatIn(o.ends_at, tz)}</Table.Td>
                    <Table.Td>{o.source}</Table.Td>
                    <Table.Td>
                      <Text size="sm">{o.note}</Text>
                    </Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <Tooltip label="Delete">
                          <ActionIcon variant="subtle" color="red" aria-label={`Delete override of ${label(o.username)}`} onClick={() => confirmDelete(o)}>
                            <IconTrash size={16} />
                          </ActionIcon>
                        </Tooltip>
                      </WriteOnly>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Modal opened={creating} onClose={() => setCreating(false)} title={`New override in ${schedule.name}`}>
        {creating && <OverrideForm schedule={schedule} users={users} onClose={() => setCreating(false)} />}
      </Modal>
    </Stack>
  );
}
