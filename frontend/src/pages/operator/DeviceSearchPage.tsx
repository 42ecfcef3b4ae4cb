import { Badge, Group, MultiSelect, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconSearch } from "@tabler/icons-react";
import { useState } from "react";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { StatusBadge } from "../../components/badges";
import { timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { TenantSelect } from "./TenantSelect";

const STATUSES = ["active", "revoked", "decommissioned"] as const;
const CONNECTIVITY = ["online", "stale", "offline", "never"] as const;
type Status = (typeof STATUSES)[number];
type Connectivity = (typeof CONNECTIVITY)[number];

export function DeviceSearchPage() {
  const api = useApi();
  const [text, setText] = useState("");
  const [q] = useDebouncedValue(text.trim(), 300);
  const [tenant, setTenant] = useState<string | null>(null);
  const [status, setStatus] = useState<Status[]>([]);
  const [connectivity, setConnectivity] = useState<Connectivity[]>([]);
  const paged = usePagedQuery(
    ["operator", "devices", { q, tenant, status, connectivity }],
    (cursor) =>
      unwrap(
        api.GET("/api/v1/operator/devices", {
          params: { query: { q: q || undefined, tenant_id: tenant ?? undefined, status, connectivity, cursor, limit: 50 } },
        }),
      ),
    { refetchInterval: LIVE_REFRESH_MS },
  );

  return (
    <>
      <PageHeader title="Device search" description="Devices of every tenant, with their connectivity now. Each search is recorded in the operator audit." />
      <Group align="flex-end" gap="xs" mb="md" wrap="wrap">
        <TextInput
          label="Search devices"
          placeholder="name or id, or tag key:value"
          leftSection={<IconSearch size={14} />}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          w={260}
        />
        <TenantSelect value={tenant} onChange={setTenant} />
        <MultiSelect label="Status" placeholder="any" data={[...STATUSES]} value={status} onChange={(v) => setStatus(v as Status[])} clearable w={220} />
        <MultiSelect label="Connectivity" placeholder="any" data={[...CONNECTIVITY]} value={connectivity} onChange={(v) => setConnectivity(v as Connectivity[])} clearable w={240} />
      </Group>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No devices found">No device of any tenant matches this search.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Tenant</Table.Th>
                  <Table.Th>Device</Table.Th>
                  <Table.Th>Connectivity</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Model / firmware</Table.Th>
                  <Table.Th>Site</Table.Th>
                  <Table.Th>Last seen</Table.Th>
                  <Table.Th>Tags</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((d) => (
                  <Table.Tr key={`${d.tenant_id}/${d.id}`}>
                    <Table.Td>{d.tenant_id}</Table.Td>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {d.name || d.id}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {d.id}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={d.connectivity} />
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={d.status} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{d.model || "—"}</Text>
                      <Text size="xs" c="dimmed">
                        {d.firmware_version || "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td>{d.site_id ?? "—"}</Table.Td>
                    <Table.Td title={d.last_seen_at ?? undefined}>{timeAgo(d.last_seen_at)}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="wrap">
                        {Object.entries(d.tags).map(([k, v]) => (
                          <Badge key={k} variant="outline" size="sm" tt="none">
                            {`${k}:${v}`}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
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
