import { ActionIcon, Badge, Box, Button, Code, Group, Paper, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconChevronDown, IconChevronRight } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { formatNumber, formatTime } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, ProblemAlert, QueryState } from "../../components/QueryState";
import { TenantSelect } from "./TenantSelect";

type QuarantinedMessage = components["schemas"]["QuarantinedMessage"];
type Reason = components["schemas"]["QuarantineReason"];

const WINDOWS = [
  { value: "1", label: "Last hour" },
  { value: "24", label: "Last 24 hours" },
  { value: "168", label: "Last 7 days" },
  { value: "720", label: "Last 30 days" },
];

export const reasonLabel = (reason: string) => reason.replace(/_/g, " ");

function ReasonChips({ tenant, hours, selected, onSelect }: { tenant: string | null; hours: number; selected: Reason | null; onSelect: (r: Reason | null) => void }) {
  const api = useApi();
  const counts = useQuery({
    queryKey: ["operator", "quarantine", "reasons", tenant, hours],
    queryFn: () => unwrap(api.GET("/api/v1/operator/quarantine/reasons", { params: { query: { tenant_id: tenant ?? undefined, hours } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  if (counts.isError) return <ProblemAlert error={counts.error} title="Counts by reason unavailable" onRetry={() => void counts.refetch()} />;
  if (!counts.data) return null;
  const max = Math.max(1, ...counts.data.reasons.map((r) => r.count));
  return (
    <Group gap="xs" wrap="wrap" role="group" aria-label="Filter by reason" mb="md">
      <Button size="compact-sm" variant={selected === null ? "filled" : "default"} aria-pressed={selected === null} onClick={() => onSelect(null)}>
        All reasons · {formatNumber(counts.data.total)}
      </Button>
      {counts.data.reasons.map((r) => (
        <Button
          key={r.reason}
          size="compact-sm"
          variant={selected === r.reason ? "filled" : r.count > 0 ? "light" : "subtle"}
          color={r.count > 0 ? "grape" : "gray"}
          aria-pressed={selected === r.reason}
          onClick={() => onSelect(selected === r.reason ? null : (r.reason as Reason))}
          // the bar behind the label: this reason's share of the most frequent one
          style={r.count > 0 && selected !== r.reason ? { backgroundImage: `linear-gradient(to right, var(--mantine-color-grape-light-hover) ${(r.count / max) * 100}%, transparent 0)` } : undefined}
        >
          {reasonLabel(r.reason)} · {formatNumber(r.count)}
        </Button>
      ))}
    </Group>
  );
}

function MessageRow({ message, open, onToggle }: { message: QuarantinedMessage; open: boolean; onToggle: () => void }) {
  return (
    <Fragment>
      <Table.Tr>
        <Table.Td w={40}>
          <ActionIcon variant="subtle" aria-label={`${open ? "Hide" : "Show"} payload of message ${message.id}`} aria-expanded={open} onClick={onToggle}>
            {open ? <IconChevronDown size={16} /> : <IconChevronRight size={16} />}
          </ActionIcon>
        </Table.Td>
        <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(message.received_at)}</Table.Td>
        <Table.Td>
          <Badge color="grape" variant="light">
            {reasonLabel(message.reason)}
          </Badge>
        </Table.Td>
        <Table.Td>{message.tenant_id ?? <Text c="dimmed" size="sm">unknown</Text>}</Table.Td>
        <Table.Td>{message.device_id ?? <Text c="dimmed" size="sm">unknown</Text>}</Table.Td>
        <Table.Td>
          <Code>{message.topic}</Code>
        </Table.Td>
        <Table.Td ta="right">{formatNumber(message.payload_size)} B</Table.Td>
      </Table.Tr>
      {open && (
        <Table.Tr>
          <Table.Td colSpan={7}>
            <Paper withBorder p="sm">
              <Stack gap="xs">
                <Text size="sm">
                  <b>{reasonLabel(message.reason)}:</b> {message.detail}
                </Text>
                <Text size="xs" c="dimmed">
                  source {message.source} · {formatNumber(message.payload_size)} bytes
                  {message.excerpt_truncated ? " · excerpt shows the first bytes only" : ""}
                </Text>
                <Box
                  component="pre"
                  ff="monospace"
                  fz="xs"
                  p="xs"
                  m={0}
                  bg="var(--mantine-color-gray-light)"
                  style={{ whiteSpace: "pre-wrap", wordBreak: "break-all", maxHeight: 320, overflow: "auto" }}
                  aria-label={`Payload excerpt of message ${message.id}`}
                >
                  {message.payload_excerpt || "(empty payload)"}
                  {message.excerpt_truncated ? "…" : ""}
                </Box>
              </Stack>
            </Paper>
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

export function QuarantinePage() {
  const api = useApi();
  const [reason, setReason] = useState<Reason | null>(null);
  const [tenant, setTenant] = useState<string | null>(null);
  const [hours, setHours] = useState(24);
  const [deviceInput, setDeviceInput] = useState("");
  const [device] = useDebouncedValue(deviceInput.trim(), 300);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const paged = usePagedQuery(
    ["operator", "quarantine", { reason, tenant, hours, device }],
    (cursor) =>
      unwrap(
        api.GET("/api/v1/operator/quarantine", {
          params: {
            query: {
              reason: reason ?? undefined,
              tenant_id: tenant ?? undefined,
              device_id: device || undefined,
              since: new Date(Date.now() - hours * 3600_000).toISOString(),
              cursor,
              limit: 50,
            },
          },
        }),
      ),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  const toggle = (id: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <>
      <PageHeader title="Quarantine" description="Messages ingest refused, with the reason and the first bytes of each payload. Refreshed live." />
      <Group align="flex-end" gap="xs" mb="md" wrap="wrap">
        <TenantSelect value={tenant} onChange={setTenant} />
        <TextInput label="Device id" placeholder="exact id" value={deviceInput} onChange={(e) => setDeviceInput(e.currentTarget.value)} />
        <Select label="Since" data={WINDOWS} value={String(hours)} onChange={(v) => setHours(Number(v ?? 24))} allowDeselect={false} w={170} />
      </Group>
      <ReasonChips tenant={tenant} hours={hours} selected={reason} onSelect={setReason} />
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No quarantined messages">Nothing was refused with these filters.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={820}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th />
                  <Table.Th>Received</Table.Th>
                  <Table.Th>Reason</Table.Th>
                  <Table.Th>Tenant</Table.Th>
                  <Table.Th>Device</Table.Th>
                  <Table.Th>Topic</Table.Th>
                  <Table.Th ta="right">Size</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((m) => (
                  <MessageRow key={m.id} message={m} open={open.has(m.id)} onToggle={() => toggle(m.id)} />
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
