import { Anchor, Table, Text, Tooltip } from "@mantine/core";
import { Link } from "react-router-dom";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { SeverityBadge, StatusBadge } from "../../../components/badges";
import { formatTime, timeAgo } from "../../../components/format";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";

export function DeviceAlerts({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const paged = usePagedQuery(
    ["alerts", "device", deviceId],
    (cursor) => unwrap(api.GET("/api/v1/alerts", { params: { query: { device_id: deviceId, cursor, limit: 25 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  return (
    <>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No alerts for this device" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Severity</Table.Th>
                  <Table.Th>Rule</Table.Th>
                  <Table.Th miw={130}>State</Table.Th>
                  <Table.Th>Opened</Table.Th>
                  <Table.Th>Last value</Table.Th>
                  <Table.Th>Fired</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((alert) => (
                  <Table.Tr key={alert.id}>
                    <Table.Td>
                      <SeverityBadge severity={alert.severity} />
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/alerts/${encodeURIComponent(alert.id)}`}>
                        {alert.rule_name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={alert.state} />
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={formatTime(alert.opened_at)}>
                        <Text size="sm">{timeAgo(alert.opened_at)}</Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>{alert.last_value === null ? "—" : String(alert.last_value)}</Table.Td>
                    <Table.Td>{alert.count}×</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
    </>
  );
}
