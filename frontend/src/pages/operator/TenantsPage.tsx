import { ActionIcon, Button, Modal, Table, Tabs, Text } from "@mantine/core";
import { IconPencil, IconPlus } from "@tabler/icons-react";
import { useState } from "react";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { formatNumber, formatTime } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { SubscriptionStatusBadge } from "../account/subscriptionStatus";
import { HealthMatrix } from "./HealthMatrix";
import { TenantEditor, type EditedTenant } from "./TenantEditor";

const limit = (value: number | null, unit = "") => (value === null ? "no limit" : `${formatNumber(value)}${unit}`);

function TenantList({ onEdit }: { onEdit: (t: EditedTenant) => void }) {
  const api = useApi();
  const paged = usePagedQuery(["operator", "tenants"], (cursor) => unwrap(api.GET("/api/v1/tenants", { params: { query: { cursor, limit: 100 } } })));
  return (
    <>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No tenants yet" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={820}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Tenant</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th ta="right">Device limit</Table.Th>
                  <Table.Th ta="right">Msg / device / min</Table.Th>
                  <Table.Th ta="right">API req / min</Table.Th>
                  <Table.Th ta="right">Retention</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {t.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {t.id}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <SubscriptionStatusBadge status={t.status} />
                    </Table.Td>
                    <Table.Td ta="right">{limit(t.device_limit)}</Table.Td>
                    <Table.Td ta="right">{limit(t.device_rate_per_minute)}</Table.Td>
                    <Table.Td ta="right">{limit(t.api_rate_per_minute)}</Table.Td>
                    <Table.Td ta="right">{limit(t.retention_days, " days")}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(t.created_at)}</Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <ActionIcon variant="subtle" aria-label={`Edit ${t.name}`} onClick={() => onEdit({ id: t.id, name: t.name })}>
                          <IconPencil size={16} />
                        </ActionIcon>
                      </WriteOnly>
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

export function TenantsPage() {
  const api = useApi();
  const [editing, setEditing] = useState<EditedTenant | null | undefined>(undefined);
  const health = usePagedQuery(
    ["operator", "tenants", "health"],
    (cursor) => unwrap(api.GET("/api/v1/operator/tenants/health", { params: { query: { cursor, limit: 200 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );

  return (
    <>
      <PageHeader
        title="Tenants"
        description="Every tenant's health at a glance; colours mark what needs attention. Click a column to sort."
        actions={
          <WriteOnly>
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing(null)}>
              New tenant
            </Button>
          </WriteOnly>
        }
      />
      <Tabs defaultValue="health" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="health">Health matrix</Tabs.Tab>
          <Tabs.Tab value="tenants">Tenants and limits</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="health">
          <QueryState query={health.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No tenants yet">Create the first tenant to see its health here.</EmptyState>}>
            {(page) => <HealthMatrix rows={page.items} onEdit={setEditing} />}
          </QueryState>
          <Pager paged={health} />
        </Tabs.Panel>
        <Tabs.Panel value="tenants">
          <TenantList onEdit={setEditing} />
        </Tabs.Panel>
      </Tabs>
      <Modal opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.name}` : "New tenant"}>
        {editing !== undefined && <TenantEditor tenant={editing} onClose={() => setEditing(undefined)} />}
      </Modal>
    </>
  );
}
