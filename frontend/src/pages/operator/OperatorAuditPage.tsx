import { Badge, Button, Code, Group, Table, Text, TextInput } from "@mantine/core";
import { useState } from "react";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { formatTime } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { TenantSelect } from "./TenantSelect";

interface Filters {
  tenant_id?: string;
  operator?: string;
}

export function OperatorAuditPage() {
  const api = useApi();
  const [filters, setFilters] = useState<Filters>({});
  const [tenant, setTenant] = useState<string | null>(null);
  const [operator, setOperator] = useState("");
  const paged = usePagedQuery(
    ["operator-audit", filters],
    (cursor) => unwrap(api.GET("/api/v1/operator-audit", { params: { query: { ...filters, cursor, limit: 50 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  const apply = (next: Filters) => setFilters({ tenant_id: next.tenant_id || undefined, operator: next.operator?.trim() || undefined });

  return (
    <>
      <PageHeader title="Operator audit" description="Every operator request that acted in a tenant (X-Pulse-Tenant or a tenant filter) or read tenants' records (*), newest first." />
      <form
        aria-label="Operator audit filters"
        onSubmit={(event) => {
          event.preventDefault();
          apply({ tenant_id: tenant ?? undefined, operator });
        }}
      >
        <Group align="flex-end" gap="xs" mb="md" wrap="wrap">
          <TenantSelect
            value={tenant}
            onChange={(value) => {
              setTenant(value);
              apply({ tenant_id: value ?? undefined, operator });
            }}
          />
          <TextInput label="Operator" placeholder="exact name, e.g. ops@example.com" value={operator} onChange={(e) => setOperator(e.currentTarget.value)} />
          <Button type="submit" size="sm">
            Apply filters
          </Button>
        </Group>
      </form>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No operator access recorded">Nothing matches these filters.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Operator</Table.Th>
                  <Table.Th>Tenant</Table.Th>
                  <Table.Th>Request</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Request id</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(a.at)}</Table.Td>
                    <Table.Td>
                      <Text size="sm">{a.operator}</Text>
                      <Text size="xs" c="dimmed">
                        {a.role}
                      </Text>
                    </Table.Td>
                    <Table.Td>{a.tenant_id === "*" ? <Text size="sm" c="dimmed" title="a cross-tenant read that shows tenants' records">all (*)</Text> : a.tenant_id}</Table.Td>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap" align="flex-start">
                        <Badge variant="light" color={a.method === "GET" ? "gray" : "orange"} style={{ flexShrink: 0, minWidth: "max-content" }}>
                          {a.method}
                        </Badge>
                        <Code style={{ whiteSpace: "normal", wordBreak: "break-all" }}>{a.path}</Code>
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{a.ip}</Text>
                      <Text size="xs" c="dimmed" lineClamp={1} title={a.user_agent}>
                        {a.user_agent}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace" c="dimmed">
                        {a.request_id}
                      </Text>
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
