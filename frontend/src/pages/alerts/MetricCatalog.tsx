import { Button, Group, Modal, Stack, Table, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { FormActions, RowActions } from "../../components/actions";
import { showSaved, showWriteError } from "../../components/forms";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import type { CatalogMetric } from "./model";

const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function MetricEditor({ metric, onClose }: { metric: CatalogMetric | null; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm({
    initialValues: { name: metric?.name ?? "", unit: metric?.unit ?? "", description: metric?.description ?? "" },
    validate: { name: (v) => (METRIC_NAME.test(v) ? null : "starts with a letter; letters, digits and _ . - (at most 64)") },
  });
  const save = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(api.PUT("/api/v1/metrics/{name}", { params: { path: { name: values.name } }, body: { unit: values.unit, description: values.description } })),
    onSuccess: (saved) => {
      showSaved(`metric ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["metrics"] });
      onClose();
    },
    onError: (error) => showWriteError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <TextInput label="Metric name" required disabled={!!metric} data-autofocus {...form.getInputProps("name")} />
        <TextInput label="Unit" placeholder="degC, %, V" maxLength={32} {...form.getInputProps("unit")} />
        <TextInput label="Description" maxLength={500} {...form.getInputProps("description")} />
        <FormActions onCancel={onClose} submitLabel={metric ? "Save" : "Add metric"} loading={save.isPending} />
      </Stack>
    </form>
  );
}

/** The tenant's metric catalog (GET /metrics): the names rules are written against, with units. */
export function MetricCatalog() {
  const api = useApi();
  const client = useQueryClient();
  const [editing, setEditing] = useState<CatalogMetric | null | undefined>(undefined);
  const query = useQuery({ queryKey: ["metrics"], queryFn: () => unwrap(api.GET("/api/v1/metrics")) });
  const remove = useMutation({
    mutationFn: (m: CatalogMetric) => unwrap(api.DELETE("/api/v1/metrics/{name}", { params: { path: { name: m.name } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["metrics"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (m: CatalogMetric) =>
    modals.openConfirmModal({
      title: `Delete metric ${m.name}?`,
      children: "Rules naming it keep working on raw telemetry of that name; a model mapping onto it must go first.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(m),
    });
  return (
    <Stack gap="sm">
      <WriteOnly>
        <Group justify="flex-end">
          <Button leftSection={<IconPlus size={16} />} variant="light" onClick={() => setEditing(null)}>
            Add metric
          </Button>
        </Group>
      </WriteOnly>
      <QueryState query={query} isEmpty={(items) => items.length === 0} empty={<EmptyState title="No metrics in the catalog">Add the metrics your devices send, with their units.</EmptyState>}>
        {(items) => (
          <Table.ScrollContainer minWidth={520}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Metric</Table.Th>
                  <Table.Th>Unit</Table.Th>
                  <Table.Th>Description</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((m) => (
                  <Table.Tr key={m.name}>
                    <Table.Td ff="monospace">{m.name}</Table.Td>
                    <Table.Td>{m.unit || "—"}</Table.Td>
                    <Table.Td>{m.description || "—"}</Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <RowActions name={`metric ${m.name}`} onEdit={() => setEditing(m)} onDelete={() => confirmDelete(m)} />
                      </WriteOnly>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Modal opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.name}` : "Add metric"}>
        {editing !== undefined && <MetricEditor metric={editing} onClose={() => setEditing(undefined)} />}
      </Modal>
    </Stack>
  );
}
