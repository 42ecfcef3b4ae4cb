import { Badge, Paper, Table, Text, Title } from "@mantine/core";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { formatTime } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";

const ACTION_COLORS: Record<string, string> = {
  opened: "red",
  reopened: "red",
  acknowledged: "yellow",
  unacknowledged: "orange",
  snoozed: "grape",
  woke: "orange",
  assigned: "blue",
  commented: "gray",
  resolved: "green",
  closed: "dark",
};

function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}

/** GET /alerts/{id}/timeline (oldest first), refreshed live: what happened, who did it, their notes. */
export function AlertTimeline({ alertId }: { alertId: string }) {
  const api = useApi();
  const paged = usePagedQuery(
    ["alert", alertId, "timeline"],
    (cursor) => unwrap(api.GET("/api/v1/alerts/{alert_id}/timeline", { params: { path: { alert_id: alertId }, query: { cursor, limit: 100 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="alert-timeline-heading">
      <Title order={3} id="alert-timeline-heading" mb="sm">
        Timeline
      </Title>
      <QueryState query={paged.query} isEmpty={(page) => page.items.length === 0} empty={<EmptyState title="Nothing recorded yet" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={560}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>Note</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((entry) => {
                  const detail = detailText(entry.detail ?? {});
                  return (
                    <Table.Tr key={entry.id}>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(entry.at)}</Table.Td>
                      <Table.Td>
                        <Badge variant="light" color={ACTION_COLORS[entry.action] ?? "gray"}>
                          {entry.action}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{entry.actor}</Table.Td>
                      <Table.Td>
                        {entry.note && <Text size="sm">{entry.note}</Text>}
                        {detail && (
                          <Text size="xs" c="dimmed">
                            {detail}
                          </Text>
                        )}
                        {!entry.note && !detail && "—"}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
    </Paper>
  );
}
