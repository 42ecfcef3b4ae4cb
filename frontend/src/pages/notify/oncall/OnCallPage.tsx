import { Anchor, Badge, Button, Group, Loader, Modal, Table, Text } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { PageHeader } from "../../../components/PageHeader";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { formatIn, useDirectory, type Schedule } from "../shared";
import { ScheduleEditor } from "./ScheduleEditor";

/** Who is on call in a schedule right now, refreshed live. */
export function OnCallNow({ schedule, label }: { schedule: Schedule; label: (u: string | null) => string }) {
  const api = useApi();
  const now = useQuery({
    queryKey: ["oncall", schedule.id, "now"],
    queryFn: () => unwrap(api.GET("/api/v1/oncall/schedules/{schedule_id}/now", { params: { path: { schedule_id: schedule.id } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  if (now.isPending) return <Loader size="xs" aria-label="Loading who is on call" />;
  if (now.isError) return <Text size="sm" c="red">could not be read</Text>;
  const { username, segment } = now.data;
  if (!username) return <Badge color="red" variant="filled">nobody on call</Badge>;
  return (
    <Group gap={6} wrap="wrap">
      <Text size="sm" fw={500} data-testid={`on-call-${schedule.id}`}>
        {label(username)}
      </Text>
      <Text size="xs" c="dimmed">
        until {formatIn(segment.end, schedule.timezone, "ddd HH:mm")}
        {segment.source && segment.source !== "layer" ? ` (${segment.source})` : ""}
      </Text>
    </Group>
  );
}

export function OnCallPage() {
  const api = useApi();
  const navigate = useNavigate();
  const directory = useDirectory();
  const [creating, setCreating] = useState(false);
  const paged = usePagedQuery(["oncall-schedules"], (cursor) => unwrap(api.GET("/api/v1/oncall/schedules", { params: { query: { cursor, limit: 50 } } })));
  return (
    <>
      <PageHeader
        title="On-call"
        description="Schedules of who answers pages; escalation steps notify whoever is on call when they run."
        actions={
          <WriteOnly>
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              New schedule
            </Button>
          </WriteOnly>
        }
      />
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No on-call schedules yet">A schedule rotates people through shifts in layers.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Schedule</Table.Th>
                  <Table.Th>On call now</Table.Th>
                  <Table.Th>Time zone</Table.Th>
                  <Table.Th>Layers</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((schedule) => (
                  <Table.Tr key={schedule.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/oncall/${encodeURIComponent(schedule.id)}`}>
                        {schedule.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <OnCallNow schedule={schedule} label={directory.label} />
                    </Table.Td>
                    <Table.Td>{schedule.timezone}</Table.Td>
                    <Table.Td>{schedule.layers.map((l) => l.name).join(", ")}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      <Modal size="xl" opened={creating} onClose={() => setCreating(false)} title="New on-call schedule">
        {creating && <ScheduleEditor schedule={null} onClose={() => setCreating(false)} onSaved={(saved) => navigate(`/oncall/${encodeURIComponent(saved.id)}`)} />}
      </Modal>
    </>
  );
}
