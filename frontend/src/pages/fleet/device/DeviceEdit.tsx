import { Alert, NumberInput, Select, Stack, TagsInput, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { ApiError, unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved, showWriteError } from "../../../components/forms";
import { ifMatch, parseTagPairs, tagPairs, topLevelErrors, useSiteOptions, type Device } from "../shared";

interface EditForm {
  name: string;
  site_id: string | null;
  tags: string[];
  heartbeat_interval_s: number | string;
}

const changedFields = (a: Device, b: Device): string[] =>
  (["name", "site_id", "tags", "heartbeat_interval_s", "model", "firmware_version", "status"] as const).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));

/** Edit name, site, tags and heartbeat under If-Match; a 412 keeps the edits and names what others changed. */
export function DeviceEditForm({ device, onClose }: { device: Device; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const sites = useSiteOptions();
  const [base, setBase] = useState<Device>(device);
  const [stale, setStale] = useState<{ from: number; fields: string[] } | null>(null);
  const form = useForm<EditForm>({
    initialValues: { name: device.name, site_id: device.site_id, tags: tagPairs(device.tags), heartbeat_interval_s: device.heartbeat_interval_s },
    validate: {
      name: (v) => (v.trim() ? null : "a device needs a name"),
      tags: (v) => parseTagPairs(v).error,
      heartbeat_interval_s: (v) => (v !== "" && Number(v) >= 10 && Number(v) <= 604800 ? null : "between 10 s and 7 days (604800 s)"),
    },
  });
  const save = useMutation({
    mutationFn: (values: EditForm) =>
      unwrap(
        api.PATCH("/api/v1/devices/{device_id}", {
          params: { path: { device_id: device.id }, header: ifMatch(base.version) },
          body: {
            name: values.name.trim(),
            site_id: values.site_id,
            tags: parseTagPairs(values.tags).tags,
            heartbeat_interval_s: Number(values.heartbeat_interval_s),
          },
        }),
      ),
    onSuccess: (saved) => {
      client.setQueryData(["devices", "detail", device.id], saved);
      void client.invalidateQueries({ queryKey: ["devices"] });
      showSaved(`device ${saved.name}`);
      onClose();
    },
    onError: async (error) => {
      if (error instanceof ApiError && error.status === 412) {
        try {
          const latest = await unwrap(api.GET("/api/v1/devices/{device_id}", { params: { path: { device_id: device.id } } }));
          setStale({ from: base.version, fields: changedFields(base, latest) });
          setBase(latest);
          client.setQueryData(["devices", "detail", device.id], latest);
        } catch (reload) {
          showWriteError(reload);
        }
        return;
      }
      showWriteError(error, topLevelErrors(form));
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        {stale && (
          <Alert color="orange" title="Someone else changed this device" role="alert">
            It went from version {stale.from} to {base.version}
            {stale.fields.length ? ` (changed: ${stale.fields.join(", ")})` : ""}. Your edits are kept; Save applies them over version {base.version}.
          </Alert>
        )}
        <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
        <Select label="Site" data={sites} clearable searchable {...form.getInputProps("site_id")} />
        <TagsInput label="Tags" description="key=value, Enter after each" {...form.getInputProps("tags")} />
        <NumberInput label="Heartbeat interval (s)" required min={10} max={604800} {...form.getInputProps("heartbeat_interval_s")} />
        <FormActions onCancel={onClose} submitLabel="Save" loading={save.isPending} />
      </Stack>
    </form>
  );
}
