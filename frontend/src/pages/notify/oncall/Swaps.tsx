import { Button, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconArrowsExchange } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { StatusBadge } from "../../../components/badges";
import { showWriteError } from "../../../components/forms";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { showFormError } from "../problems";
import { formatIn, isoToWall, wallToIso, type Schedule } from "../shared";

type Swap = components["schemas"]["Swap"];
type SwapState = components["schemas"]["SwapState"];

function SwapForm({ schedule, people, onClose }: { schedule: Schedule; people: { value: string; label: string }[]; onClose: () => void }) {
  const api = useApi();
  const { canWrite, principal } = useSession();
  const client = useQueryClient();
  const tz = schedule.timezone;
  const start = isoToWall(new Date().toISOString(), tz).slice(0, 11) + "09:00";
  const form = useForm({
    initialValues: { from_user: "", to_user: "", starts_at: start, ends_at: isoToWall(new Date(new Date(wallToIso(start, tz)).getTime() + 24 * 3_600_000).toISOString(), tz), note: "" },
    validate: {
      to_user: (v) => (v.trim() ? null : "who should take the shift?"),
      ends_at: (v, all) => (v > all.starts_at ? null : "must be after the start"),
    },
  });
  const request = useMutation({
    mutationFn: (v: typeof form.values) =>
      unwrap(
        api.POST("/api/v1/oncall/schedules/{schedule_id}/swaps", {
          params: { path: { schedule_id: schedule.id } },
          body: { to_user: v.to_user.trim(), from_user: v.from_user.trim() || null, starts_at: wallToIso(v.starts_at, tz), ends_at: wallToIso(v.ends_at, tz), note: v.note },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["oncall", schedule.id, "swaps"] });
      onClose();
    },
    onError: (error) => showFormError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((v) => request.mutate(v))}>
      <Stack>
        {canWrite && <Select label="Whose shift" description="empty: yours" data={people} searchable clearable {...form.getInputProps("from_user")} onChange={(v) => form.setFieldValue("from_user", v ?? "")} />}
        <Select label="Ask" description="who is asked to take the shift" data={people.filter((p) => p.value !== principal.username)} searchable required {...form.getInputProps("to_user")} />
        <Group grow>
          <TextInput type="datetime-local" label={`From (${tz})`} required {...form.getInputProps("starts_at")} />
          <TextInput type="datetime-local" label={`Until (${tz})`} required {...form.getInputProps("ends_at")} />
        </Group>
        <TextInput label="Note" {...form.getInputProps("note")} />
        <FormActions onCancel={onClose} submitLabel="Request swap" loading={request.isPending} />
      </Stack>
    </form>
  );
}

/**
 * Shift swaps. Unlike the rest of the schedule these are personal: anyone on the tenant may ask to
 * hand over their own shift, only the person asked accepts, and the people named (or an admin) decline.
 */
export function Swaps({ schedule, label, people }: { schedule: Schedule; label: (u: string) => string; people: { value: string; label: string }[] }) {
  const api = useApi();
  const { principal, canWrite } = useSession();
  const client = useQueryClient();
  const me = principal.username;
  const [state, setState] = useState<SwapState | null>("requested");
  const [requesting, setRequesting] = useState(false);
  const paged = usePagedQuery(["oncall", schedule.id, "swaps", state], (cursor) =>
    unwrap(api.GET("/api/v1/oncall/schedules/{schedule_id}/swaps", { params: { path: { schedule_id: schedule.id }, query: { cursor, limit: 20, state: state ?? undefined } } })),
  );
  const decide = useMutation({
    mutationFn: ({ swap, action }: { swap: Swap; action: "accept" | "decline" }) =>
      action === "accept"
        ? unwrap(api.POST("/api/v1/oncall/schedules/{schedule_id}/swaps/{swap_id}/accept", { params: { path: { schedule_id: schedule.id, swap_id: swap.id } } }))
        : unwrap(api.POST("/api/v1/oncall/schedules/{schedule_id}/swaps/{swap_id}/decline", { params: { path: { schedule_id: schedule.id, swap_id: swap.id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["oncall", schedule.id] }),
    onError: (error) => showWriteError(error),
  });
  const mayDecline = (s: Swap) => canWrite || [s.to_user, s.from_user, s.requested_by].includes(me);
  return (
    <Stack gap="xs">
      <Group justify="space-between" wrap="wrap">
        <Title order={4}>Swaps</Title>
        <Group gap="xs">
          <Select
            aria-label="Swap state"
            size="xs"
            w={160}
            data={[
              { value: "requested", label: "requested" },
              { value: "accepted", label: "accepted" },
              { value: "declined", label: "declined" },
            ]}
            value={state}
            onChange={(v) => setState(v as SwapState | null)}
            placeholder="any state"
            clearable
          />
          <Button size="xs" variant="light" leftSection={<IconArrowsExchange size={14} />} onClick={() => setRequesting(true)}>
            Request swap
          </Button>
        </Group>
      </Group>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No swaps" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={680}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Shift of</Table.Th>
                  <Table.Th>Asked</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Until</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((s) => (
                  <Table.Tr key={s.id} data-testid="swap-row">
                    <Table.Td>{label(s.from_user)}</Table.Td>
                    <Table.Td>{label(s.to_user)}</Table.Td>
                    <Table.Td>{formatIn(s.starts_at, schedule.timezone)}</Table.Td>
                    <Table.Td>{formatIn(s.ends_at, schedule.timezone)}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={s.state} />
                      {s.note && <Text size="xs" c="dimmed">{s.note}</Text>}
                    </Table.Td>
                    <Table.Td>
                      {s.state === "requested" && (
                        <Group gap={4} justify="flex-end" wrap="nowrap">
                          {s.to_user === me && (
                            <Button size="xs" onClick={() => decide.mutate({ swap: s, action: "accept" })} loading={decide.isPending && decide.variables?.swap.id === s.id && decide.variables.action === "accept"}>
                              Accept
                            </Button>
                          )}
                          {mayDecline(s) && (
                            <Button size="xs" variant="default" onClick={() => decide.mutate({ swap: s, action: "decline" })}>
                              {s.to_user === me || canWrite ? "Decline" : "Withdraw"}
                            </Button>
                          )}
                        </Group>
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
      <Modal opened={requesting} onClose={() => setRequesting(false)} title={`Request a swap in ${schedule.name}`}>
        {requesting && <SwapForm schedule={schedule} people={people} onClose={() => setRequesting(false)} />}
      </Modal>
    </Stack>
  );
}
