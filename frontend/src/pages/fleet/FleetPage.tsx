import { Anchor, Badge, Button, Checkbox, Group, Paper, SimpleGrid, Table, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconFileImport, IconPlus, IconTags } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { memo, useCallback, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi, useSession } from "../../auth/SessionProvider";
import { StatusBadge } from "../../components/badges";
import { formatNumber, formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { BulkTagModal } from "./BulkTag";
import { FleetFilterBar } from "./FleetFilterBar";
import { DEVICE_STATUSES, filterFromParams, filterQuery, filterToParams, isFiltered, type DeviceStatus, type FleetFilter } from "./fleetFilter";
import { ImportDevicesModal } from "./ImportDevices";
import { RegisterDeviceModal } from "./RegisterDevice";
import { SavedFilters } from "./SavedFilters";
import type { Device } from "./shared";

/** Devices by status for the current filter (status itself left out, so each card can toggle it). */
const StatusCounts = memo(function StatusCounts({ filter, onToggle }: { filter: FleetFilter; onToggle: (status: DeviceStatus) => void }) {
  const api = useApi();
  const query = { ...filterQuery(filter), status: undefined };
  const counts = useQuery({
    queryKey: ["devices", "counts", query],
    queryFn: () => unwrap(api.GET("/api/v1/devices/counts", { params: { query } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  if (counts.isError) return null;
  const byStatus = counts.data?.by_status ?? {};
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }} mb="md" data-testid="fleet-counts">
      <Paper withBorder p="sm">
        <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
          Devices
        </Text>
        <Text fw={700} size="xl">
          {formatNumber(counts.data?.total)}
        </Text>
      </Paper>
      {DEVICE_STATUSES.map((status) => {
        const active = filter.status.includes(status);
        return (
          <Paper key={status} withBorder p="sm" bg={active ? "blue.0" : undefined}>
            <UnstyledButton onClick={() => onToggle(status)} aria-pressed={active} aria-label={`${status}: ${byStatus[status] ?? 0} devices, ${active ? "remove" : "add"} status filter`} w="100%">
              <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                {status}
              </Text>
              <Text fw={700} size="xl">
                {counts.data ? formatNumber(byStatus[status] ?? 0) : "—"}
              </Text>
            </UnstyledButton>
          </Paper>
        );
      })}
    </SimpleGrid>
  );
});

function DeviceRow({ device, selectable, selected, onSelect }: { device: Device; selectable: boolean; selected: boolean; onSelect: (on: boolean) => void }) {
  const tags = Object.entries(device.tags);
  return (
    <Table.Tr bg={selected ? "var(--mantine-color-blue-light)" : undefined}>
      {selectable && (
        <Table.Td>
          <Checkbox aria-label={`Select ${device.name}`} checked={selected} onChange={(e) => onSelect(e.currentTarget.checked)} />
        </Table.Td>
      )}
      <Table.Td>
        <Anchor component={Link} to={`/devices/${encodeURIComponent(device.id)}`} fw={500}>
          {device.name}
        </Anchor>
      </Table.Td>
      <Table.Td>{device.id === device.name ? <Text c="dimmed">—</Text> : device.id}</Table.Td>
      <Table.Td>
        <StatusBadge status={device.status} />
      </Table.Td>
      <Table.Td>
        <Tooltip label={formatTime(device.last_seen_at)} disabled={!device.last_seen_at}>
          <Text size="sm">{timeAgo(device.last_seen_at)}</Text>
        </Tooltip>
      </Table.Td>
      <Table.Td>{device.model || "—"}</Table.Td>
      <Table.Td>{device.firmware_version || "—"}</Table.Td>
      <Table.Td>{device.site_id ?? "—"}</Table.Td>
      <Table.Td>
        <Group gap={4} wrap="wrap">
          {tags.length === 0 && "—"}
          {tags.map(([k, v]) => (
            <Badge key={k} variant="outline" size="sm" tt="none">
              {k}: {v}
            </Badge>
          ))}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

export function FleetPage() {
  const api = useApi();
  const { canWrite } = useSession();
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterFromParams(params), [params]);
  // Stable callbacks: the filter bar, counts and saved filters skip re-rendering on every live refresh.
  const change = useCallback((patch: Partial<FleetFilter>) => setParams(filterToParams({ ...filter, ...patch })), [filter, setParams]);
  const applySaved = useCallback((next: URLSearchParams) => setParams(next), [setParams]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<"register" | "import" | null>(null);
  const [tagging, setTagging] = useState<string[] | null>(null);

  const query = filterQuery(filter);
  const paged = usePagedQuery(
    ["devices", "list", query, filter.sort, filter.order],
    (cursor) => unwrap(api.GET("/api/v1/devices", { params: { query: { ...query, sort: filter.sort, order: filter.order, cursor, limit: 50 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  const pageIds = paged.query.data?.items.map((d) => d.id) ?? [];
  const pageSelected = pageIds.filter((id) => selected.has(id)).length;
  const select = (ids: string[], on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  const toggleStatus = useCallback(
    (status: DeviceStatus) => change({ status: filter.status.includes(status) ? filter.status.filter((s) => s !== status) : [...filter.status, status] }),
    [change, filter.status],
  );

  return (
    <>
      <PageHeader
        title="Fleet"
        description="Every device of the tenant: find, filter, tag and register devices."
        actions={
          <WriteOnly>
            <Button variant="default" leftSection={<IconFileImport size={16} />} onClick={() => setDialog("import")}>
              Import CSV
            </Button>
            <Button leftSection={<IconPlus size={16} />} onClick={() => setDialog("register")}>
              Register device
            </Button>
          </WriteOnly>
        }
      />
      <StatusCounts filter={filter} onToggle={toggleStatus} />
      <FleetFilterBar filter={filter} onChange={change} />
      <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
        <SavedFilters filter={filter} onApply={applySaved} />
        <WriteOnly>
          <Group gap="xs" wrap="wrap">
            <Text size="sm" c="dimmed" aria-live="polite">
              {selected.size} selected
            </Text>
            {selected.size > 0 && (
              <Button variant="subtle" size="xs" onClick={() => setSelected(new Set())}>
                Clear selection
              </Button>
            )}
            <Button leftSection={<IconTags size={16} />} disabled={selected.size === 0} onClick={() => setTagging([...selected])}>
              Tag selected
            </Button>
          </Group>
        </WriteOnly>
      </Group>
      <QueryState
        query={paged.query}
        isEmpty={(page) => page.items.length === 0}
        empty={
          isFiltered(filter) ? (
            <EmptyState title="No devices match">Change or clear the filters.</EmptyState>
          ) : (
            <EmptyState title="No devices yet">Register a device or import a CSV to add devices.</EmptyState>
          )
        }
      >
        {(page) => (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  {canWrite && (
                    <Table.Th w={40}>
                      <Checkbox
                        aria-label="Select page"
                        checked={pageIds.length > 0 && pageSelected === pageIds.length}
                        indeterminate={pageSelected > 0 && pageSelected < pageIds.length}
                        onChange={(e) => select(pageIds, e.currentTarget.checked)}
                      />
                    </Table.Th>
                  )}
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Id</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Last seen</Table.Th>
                  <Table.Th>Model</Table.Th>
                  <Table.Th>Firmware</Table.Th>
                  <Table.Th>Site</Table.Th>
                  <Table.Th>Tags</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((device) => (
                  <DeviceRow key={device.id} device={device} selectable={canWrite} selected={selected.has(device.id)} onSelect={(on) => select([device.id], on)} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      {canWrite && (
        <>
          <RegisterDeviceModal opened={dialog === "register"} onClose={() => setDialog(null)} />
          <ImportDevicesModal opened={dialog === "import"} onClose={() => setDialog(null)} />
          <BulkTagModal deviceIds={tagging ?? []} opened={tagging !== null} onClose={() => setTagging(null)} onApplied={() => setSelected(new Set())} />
        </>
      )}
    </>
  );
}
