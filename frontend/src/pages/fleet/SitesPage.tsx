import { Button, Group, Modal, NumberInput, Stack, Table, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { FormActions, RowActions } from "../../components/actions";
import { showSaved, showWriteError } from "../../components/forms";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { ifMatch } from "./shared";

type Site = components["schemas"]["Site"];

interface SiteForm {
  id: string;
  name: string;
  address: string;
  timezone: string;
  lat: number | string;
  lng: number | string;
}

const coordinate = (value: number | string): number | null => (value === "" ? null : Number(value));

function SiteEditor({ site, onClose }: { site: Site | null; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm<SiteForm>({
    initialValues: {
      id: site?.id ?? "",
      name: site?.name ?? "",
      address: site?.address ?? "",
      timezone: site?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
      lat: site?.lat ?? "",
      lng: site?.lng ?? "",
    },
    validate: {
      id: (v) => (site || /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(v) ? null : "letters, digits and _ . : - only"),
      name: (v) => (v.trim() ? null : "a site needs a name"),
    },
  });
  const save = useMutation({
    mutationFn: (values: SiteForm) => {
      const body = { name: values.name, address: values.address, timezone: values.timezone, lat: coordinate(values.lat), lng: coordinate(values.lng) };
      return site
        ? unwrap(api.PATCH("/api/v1/sites/{site_id}", { params: { path: { site_id: site.id }, header: ifMatch(site.version) }, body }))
        : unwrap(api.POST("/api/v1/sites", { body: { ...body, id: values.id } }));
    },
    onSuccess: (saved) => {
      showSaved(`site ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["sites"] });
      onClose();
    },
    onError: (error) => showWriteError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <TextInput label="Site id" required disabled={!!site} {...form.getInputProps("id")} />
        <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
        <TextInput label="Address" {...form.getInputProps("address")} />
        <TextInput label="Time zone" description="IANA name, e.g. Europe/Berlin" {...form.getInputProps("timezone")} />
        <Group grow>
          <NumberInput label="Latitude" min={-90} max={90} decimalScale={6} {...form.getInputProps("lat")} />
          <NumberInput label="Longitude" min={-180} max={180} decimalScale={6} {...form.getInputProps("lng")} />
        </Group>
        <FormActions onCancel={onClose} submitLabel={site ? "Save" : "Create site"} loading={save.isPending} />
      </Stack>
    </form>
  );
}

export function SitesPage() {
  const api = useApi();
  const client = useQueryClient();
  const [editing, setEditing] = useState<Site | null | undefined>(undefined);
  const paged = usePagedQuery(["sites"], (cursor) => unwrap(api.GET("/api/v1/sites", { params: { query: { cursor, limit: 50 } } })));
  const remove = useMutation({
    mutationFn: (site: Site) => unwrap(api.DELETE("/api/v1/sites/{site_id}", { params: { path: { site_id: site.id }, header: ifMatch(site.version) } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["sites"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (site: Site) =>
    modals.openConfirmModal({
      title: `Delete site ${site.name}?`,
      children: "Devices at this site keep their data but lose the site assignment.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(site),
    });

  return (
    <>
      <PageHeader
        title="Sites"
        description="Where devices are installed; alerts and reports group by site."
        actions={
          <WriteOnly>
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing(null)}>
              New site
            </Button>
          </WriteOnly>
        }
      />
      <QueryState query={paged.query} isEmpty={(page) => page.items.length === 0} empty={<EmptyState title="No sites yet">Create a site to group devices by location.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Id</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Address</Table.Th>
                  <Table.Th>Time zone</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((site) => (
                  <Table.Tr key={site.id}>
                    <Table.Td>{site.id}</Table.Td>
                    <Table.Td>{site.name}</Table.Td>
                    <Table.Td>{site.address || "—"}</Table.Td>
                    <Table.Td>{site.timezone}</Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <RowActions name={site.name} onEdit={() => setEditing(site)} onDelete={() => confirmDelete(site)} />
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
      <Modal opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.name}` : "New site"}>
        {editing !== undefined && <SiteEditor site={editing} onClose={() => setEditing(undefined)} />}
      </Modal>
    </>
  );
}
