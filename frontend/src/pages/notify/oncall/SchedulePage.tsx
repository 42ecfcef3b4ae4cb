import { Anchor, Button, Card, Modal, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconPencil, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { showWriteError } from "../../../components/forms";
import { PageHeader } from "../../../components/PageHeader";
import { QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { hhmm, useDirectory, withUnknown, type Schedule } from "../shared";
import { Gaps } from "./Gaps";
import { IcalLink } from "./IcalLink";
import { OnCallNow } from "./OnCallPage";
import { Overrides } from "./Overrides";
import { ScheduleCalendar } from "./ScheduleCalendar";
import { ScheduleEditor } from "./ScheduleEditor";
import { WEEKDAY_NAMES } from "./scheduleForm";
import { Swaps } from "./Swaps";
import { addDays, localDate, mondayOf, rangeOf } from "./time";

function rotationText(layer: Schedule["layers"][number]): string {
  const r = layer.rotation;
  const length = r.kind === "custom" ? `every ${r.length_days} days` : r.kind;
  return `${length}, handoff ${hhmm(r.handoff_time)} from ${r.start_date}`;
}

function Layers({ schedule, label }: { schedule: Schedule; label: (u: string) => string }) {
  return (
    <Table.ScrollContainer minWidth={600}>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Layer</Table.Th>
            <Table.Th>Priority</Table.Th>
            <Table.Th>Rotation</Table.Th>
            <Table.Th>Users, in order</Table.Th>
            <Table.Th>On call</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {[...schedule.layers]
            .sort((a, b) => b.priority - a.priority)
            .map((l) => (
              <Table.Tr key={l.id}>
                <Table.Td>{l.name}</Table.Td>
                <Table.Td>{l.priority}</Table.Td>
                <Table.Td>{rotationText(l)}</Table.Td>
                <Table.Td>{l.rotation.users.map(label).join(" → ")}</Table.Td>
                <Table.Td>
                  {(l.restrictions ?? []).length === 0
                    ? "around the clock"
                    : (l.restrictions ?? []).map((r) => `${(r.weekdays ?? []).map((d) => WEEKDAY_NAMES[d]).join(" ")} ${hhmm(r.start)}–${hhmm(r.end)}`).join("; ")}
                </Table.Td>
              </Table.Tr>
            ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function SchedulePage() {
  const { scheduleId = "" } = useParams();
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const directory = useDirectory();
  const [params, setParams] = useSearchParams();
  const [editing, setEditing] = useState(false);
  const query = useQuery({
    queryKey: ["oncall", scheduleId],
    queryFn: () => unwrap(api.GET("/api/v1/oncall/schedules/{schedule_id}", { params: { path: { schedule_id: scheduleId } } })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/oncall/schedules/{schedule_id}", { params: { path: { schedule_id: scheduleId } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["oncall-schedules"] });
      navigate("/oncall");
    },
    onError: (error) => showWriteError(error),
  });
  const label = (u: string | null) => directory.label(u);
  return (
    <QueryState query={query}>
      {(schedule) => {
        const tz = schedule.timezone;
        const days = params.get("days") === "14" ? 14 : 7;
        const asked = params.get("from");
        const firstDay = asked && /^\d{4}-\d{2}-\d{2}$/.test(asked) ? asked : mondayOf(localDate(new Date(), tz));
        const range = rangeOf(firstDay, days, tz);
        const onRange = (move: "previous" | "next" | "today" | 7 | 14) => {
          const next = new URLSearchParams(params);
          if (move === 7 || move === 14) next.set("days", String(move));
          else if (move === "today") next.delete("from");
          else next.set("from", addDays(firstDay, move === "next" ? days : -days));
          setParams(next, { replace: true });
        };
        const layerUsers = [...new Set(schedule.layers.flatMap((l) => l.rotation.users))];
        const people = withUnknown(directory.options, layerUsers);
        const confirmDelete = () =>
          modals.openConfirmModal({
            title: `Delete schedule ${schedule.name}?`,
            children: "Its overrides and swaps go with it, and escalation steps that notify it find nobody.",
            labels: { confirm: "Delete", cancel: "Cancel" },
            confirmProps: { color: "red" },
            onConfirm: () => remove.mutate(),
          });
        return (
          <>
            <PageHeader
              title={schedule.name}
              description={
                <>
                  <Anchor component={Link} to="/oncall" size="sm">
                    On-call
                  </Anchor>{" "}
                  · times in {tz}
                  {schedule.description ? ` · ${schedule.description}` : ""}
                </>
              }
              actions={
                <WriteOnly>
                  <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
                    Edit layers
                  </Button>
                  <Button variant="default" color="red" leftSection={<IconTrash size={16} />} onClick={confirmDelete}>
                    Delete
                  </Button>
                </WriteOnly>
              }
            />
            <Stack gap="lg">
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <Card withBorder>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                    On call now
                  </Text>
                  <OnCallNow schedule={schedule} label={label} />
                </Card>
                <WriteOnly>
                  <Card withBorder>
                    <IcalLink schedule={schedule} />
                  </Card>
                </WriteOnly>
              </SimpleGrid>
              <Card withBorder>
                <ScheduleCalendar schedule={schedule} range={range} onRange={onRange} label={label} />
              </Card>
              <Card withBorder>
                <Gaps schedule={schedule} />
              </Card>
              <Card withBorder>
                <Title order={4} mb="xs">
                  Layers
                </Title>
                <Layers schedule={schedule} label={label} />
              </Card>
              <Card withBorder>
                <Overrides schedule={schedule} range={range} users={people} label={label} />
              </Card>
              <Card withBorder>
                <Swaps schedule={schedule} label={label} people={people} />
              </Card>
            </Stack>
            <Modal size="xl" opened={editing} onClose={() => setEditing(false)} title={`Edit ${schedule.name}`}>
              {editing && <ScheduleEditor schedule={schedule} onClose={() => setEditing(false)} />}
            </Modal>
          </>
        );
      }}
    </QueryState>
  );
}
