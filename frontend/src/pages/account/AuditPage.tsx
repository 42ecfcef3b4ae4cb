import { ActionIcon, Badge, Button, Code, Table, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconChevronDown, IconChevronRight, IconDownload } from "@tabler/icons-react";
import { useMutation } from "@tanstack/react-query";
import { Fragment, useState } from "react";

import { unwrap } from "../../api/client";
import { toApiError } from "../../api/errors";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/SessionProvider";
import { formatTime } from "../../components/format";
import { showWriteError } from "../../components/forms";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { AuditDiff } from "./AuditDiff";
import { AuditFilters, type AuditQuery } from "./AuditFilters";
import { attachmentName, saveBlob } from "./download";

type AuditEntry = components["schemas"]["AuditEntry"];

function AuditRow({ entry, open, onToggle }: { entry: AuditEntry; open: boolean; onToggle: () => void }) {
  return (
    <Fragment>
      <Table.Tr>
        <Table.Td w={40}>
          <ActionIcon
            variant="subtle"
            aria-label={`${open ? "Hide" : "Show"} changes of entry ${entry.id}`}
            aria-expanded={open}
            onClick={onToggle}
          >
            {open ? <IconChevronDown size={16} /> : <IconChevronRight size={16} />}
          </ActionIcon>
        </Table.Td>
        <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(entry.at)}</Table.Td>
        <Table.Td>
          <Text size="sm">{entry.actor}</Text>
          <Text size="xs" c="dimmed">
            {entry.actor_role}
          </Text>
        </Table.Td>
        <Table.Td>
          <Badge variant="light">{entry.action}</Badge>
        </Table.Td>
        <Table.Td>
          <Text size="sm">
            {entry.entity_type} <Code>{entry.entity_id}</Code>
          </Text>
        </Table.Td>
        <Table.Td>
          <Text size="xs" c="dimmed" ff="monospace">
            {entry.request_id}
          </Text>
        </Table.Td>
      </Table.Tr>
      {open && (
        <Table.Tr>
          <Table.Td colSpan={6}>
            <AuditDiff before={entry.before} after={entry.after} />
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

export function AuditPage() {
  const { api, principal } = useSession();
  const [filters, setFilters] = useState<AuditQuery>({});
  const [open, setOpen] = useState<Set<number>>(new Set());
  const paged = usePagedQuery(["audit", filters], (cursor) =>
    unwrap(api.GET("/api/v1/audit", { params: { query: { ...filters, cursor, limit: 50 } } })),
  );
  const exportLog = useMutation({
    mutationFn: async () => {
      const { data, error, response } = await api.GET("/api/v1/audit/export", {
        params: { query: { ...filters, format: "ndjson" } },
        parseAs: "blob",
      });
      if (!response.ok || !data) throw toApiError(response.status, error);
      return { blob: data as Blob, name: attachmentName(response.headers.get("Content-Disposition"), `audit-${principal.tenant_id ?? "tenant"}.ndjson`) };
    },
    onSuccess: ({ blob, name }) => {
      saveBlob(blob, name);
      notifications.show({ color: "green", title: "Export ready", message: `${name} downloaded` });
    },
    onError: (error) => showWriteError(error),
  });
  const toggle = (id: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change in your organisation: who did what to which entity, with the document before and after."
        actions={
          <Button variant="default" leftSection={<IconDownload size={16} />} loading={exportLog.isPending} onClick={() => exportLog.mutate()}>
            Export
          </Button>
        }
      />
      <AuditFilters onApply={setFilters} />
      <QueryState
        query={paged.query}
        isEmpty={(page) => page.items.length === 0}
        empty={<EmptyState title="No audit entries">Nothing matches these filters.</EmptyState>}
      >
        {(page) => (
          <Table.ScrollContainer minWidth={760}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th />
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Entity</Table.Th>
                  <Table.Th>Request id</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((entry) => (
                  <AuditRow key={entry.id} entry={entry} open={open.has(entry.id)} onToggle={() => toggle(entry.id)} />
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
