import { ActionIcon, Button, Group, Modal, SegmentedControl, Select, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { IconDeviceFloppy, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi, useSession } from "../../auth/SessionProvider";
import { showSaved, showWriteError } from "../../components/forms";
import { filterFromParams, filterToParams, type FleetFilter } from "./fleetFilter";

type SavedFilter = components["schemas"]["SavedFilter"];

interface SaveForm {
  name: string;
  scope: "personal" | "tenant";
}

/** The query a saved filter holds, read back the way the URL reads it. */
export const savedFilterParams = (saved: SavedFilter): URLSearchParams => filterToParams({ ...filterFromParams(new URLSearchParams()), ...saved.query, q: saved.query.q ?? "" } as FleetFilter);

function SaveFilterForm({ filter, onClose }: { filter: FleetFilter; onClose: (saved?: SavedFilter) => void }) {
  const api = useApi();
  const { canWrite } = useSession();
  const client = useQueryClient();
  const form = useForm<SaveForm>({
    initialValues: { name: "", scope: "personal" },
    validate: { name: (v) => (v.trim() ? null : "give the filter a name") },
  });
  const save = useMutation({
    mutationFn: (values: SaveForm) =>
      unwrap(
        api.POST("/api/v1/saved-filters", {
          body: {
            name: values.name.trim(),
            scope: values.scope,
            query: { ...filter, q: filter.q.trim() || null },
          },
        }),
      ),
    onSuccess: (saved) => {
      showSaved(`filter ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["saved-filters"] });
      onClose(saved);
    },
    onError: (error) => showWriteError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <TextInput label="Filter name" required data-autofocus {...form.getInputProps("name")} />
        {canWrite && (
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Visible to
            </Text>
            <SegmentedControl
              data={[
                { value: "personal", label: "Only me" },
                { value: "tenant", label: "Everyone in the tenant" },
              ]}
              {...form.getInputProps("scope")}
            />
          </Stack>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => onClose()}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            Save filter
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** Named fleet filters: personal ones for anyone (a saved view changes no fleet data), shared ones by admins. */
export const SavedFilters = memo(function SavedFilters({ filter, onApply }: { filter: FleetFilter; onApply: (params: URLSearchParams) => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [selected, setSelected] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const saved = useQuery({
    queryKey: ["saved-filters"],
    queryFn: () => unwrap(api.GET("/api/v1/saved-filters", { params: { query: { limit: 500 } } })),
  });
  const items = saved.data?.items ?? [];
  const current = items.find((f) => f.id === selected);
  const remove = useMutation({
    mutationFn: (target: SavedFilter) => unwrap(api.DELETE("/api/v1/saved-filters/{filter_id}", { params: { path: { filter_id: target.id } } })),
    onSuccess: (_, target) => {
      notifications.show({ color: "green", title: "Deleted", message: `filter ${target.name}` });
      setSelected(null);
      void client.invalidateQueries({ queryKey: ["saved-filters"] });
    },
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (target: SavedFilter) =>
    modals.openConfirmModal({
      title: `Delete saved filter ${target.name}?`,
      children: target.scope === "tenant" ? "It is shared: everyone in the tenant loses it." : "Only you used it.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(target),
    });
  const apply = (id: string | null) => {
    setSelected(id);
    const target = items.find((f) => f.id === id);
    if (target) onApply(savedFilterParams(target));
  };

  return (
    <Group gap="xs" align="flex-end" wrap="wrap">
      <Select
        label="Saved filter"
        placeholder={saved.isError ? "could not load saved filters" : items.length ? "Apply a saved filter" : "none saved yet"}
        data={items.map((f) => ({ value: f.id, label: f.scope === "tenant" ? `${f.name} (shared)` : f.name }))}
        value={selected}
        onChange={apply}
        clearable
        searchable
        w={240}
        error={saved.isError ? saved.error.message : undefined}
      />
      {current?.can_delete && (
        <Tooltip label="Delete saved filter">
          <ActionIcon variant="subtle" color="red" size="lg" aria-label={`Delete saved filter ${current.name}`} onClick={() => confirmDelete(current)}>
            <IconTrash size={16} />
          </ActionIcon>
        </Tooltip>
      )}
      <Button variant="default" leftSection={<IconDeviceFloppy size={16} />} onClick={() => setSaving(true)}>
        Save filter
      </Button>
      <Modal opened={saving} onClose={() => setSaving(false)} title="Save the current filter">
        {saving && (
          <SaveFilterForm
            filter={filter}
            onClose={(created) => {
              setSaving(false);
              if (created) setSelected(created.id);
            }}
          />
        )}
      </Modal>
    </Group>
  );
});
