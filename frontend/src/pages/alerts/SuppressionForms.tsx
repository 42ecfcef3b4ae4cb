import { MultiSelect, SegmentedControl, Select, SimpleGrid, Stack, TagsInput, Text, TextInput, Textarea } from "@mantine/core";
import { useForm, type UseFormReturnType } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../api/client";
import type { FieldError } from "../../api/errors";
import { useApi } from "../../auth/SessionProvider";
import { FormActions } from "../../components/actions";
import { showSaved } from "../../components/forms";
import { SEVERITIES, localToIso, type Severity } from "./model";
import { UnmatchedErrors, placeWriteError } from "./writeErrors";

const DURATIONS = [
  { value: "60", label: "1 hour" },
  { value: "240", label: "4 hours" },
  { value: "480", label: "8 hours" },
  { value: "1440", label: "1 day" },
  { value: "4320", label: "3 days" },
  { value: "10080", label: "1 week" },
  { value: "custom", label: "Until a time…" },
];

interface Window {
  starts_at: string;
  duration: string;
  ends_at: string;
}

/** starts_at (empty: now) and ends_at from a duration or a chosen end. */
function windowOf(values: Window): { starts_at: string | null; ends_at: string } {
  const starts = localToIso(values.starts_at);
  if (values.duration !== "custom") {
    const from = starts ? new Date(starts).getTime() : Date.now();
    return { starts_at: starts, ends_at: new Date(from + Number(values.duration) * 60_000).toISOString() };
  }
  return { starts_at: starts, ends_at: localToIso(values.ends_at) ?? "" };
}

function WindowFields<T extends Window>({ form }: { form: UseFormReturnType<T> }) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      <TextInput type="datetime-local" label="Starts" description="empty: now" {...form.getInputProps("starts_at")} />
      <Select label="Lasts" data={DURATIONS} allowDeselect={false} {...form.getInputProps("duration")} error={form.values.duration === "custom" ? undefined : form.errors.ends_at} />
      {form.values.duration === "custom" && <TextInput type="datetime-local" label="Ends" required {...form.getInputProps("ends_at")} />}
    </SimpleGrid>
  );
}

const tagsOf = (entries: string[]) =>
  Object.fromEntries(entries.map((t) => (t.includes("=") ? [t.slice(0, t.indexOf("=")).trim(), t.slice(t.indexOf("=") + 1).trim()] : [t.trim(), ""])));

/** POST /silences: matching alerts still open, but silenced (nobody is notified) until it ends. */
export function SilenceForm({ onClose }: { onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [unmatched, setUnmatched] = useState<FieldError[]>([]);
  const rules = useQuery({ queryKey: ["rules", "choices"], queryFn: () => unwrap(api.GET("/api/v1/rules", { params: { query: { limit: 200 } } })), staleTime: 60_000 });
  const form = useForm({
    initialValues: { device_id: "", site_id: "", rule_id: null as string | null, severities: [] as string[], tags: [] as string[], reason: "", starts_at: "", duration: "240", ends_at: "" },
    validate: {
      device_id: (_, v) => (v.device_id.trim() || v.site_id.trim() || v.rule_id || v.severities.length || v.tags.length ? null : "name at least one matcher: device, site, rule, severity or tag"),
      ends_at: (value, v) => (v.duration === "custom" && !value ? "choose when it ends" : null),
    },
  });
  const save = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(
        api.POST("/api/v1/silences", {
          body: {
            device_id: values.device_id.trim() || null,
            site_id: values.site_id.trim() || null,
            rule_id: values.rule_id || null,
            severities: values.severities as Severity[],
            tags: tagsOf(values.tags),
            reason: values.reason,
            ...windowOf(values),
          },
        }),
      ),
    onMutate: () => setUnmatched([]),
    onSuccess: () => {
      showSaved("silence created");
      void client.invalidateQueries({ queryKey: ["silences"] });
      onClose();
    },
    onError: (error) => setUnmatched(placeWriteError(error, form, ["device_id", "site_id", "rule_id", "severities", "tags", "reason", "starts_at", "ends_at"])),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <UnmatchedErrors errors={unmatched} title="The silence was not created" />
        <Text size="sm" c="dimmed">
          An alert is silenced when it matches every matcher you fill in.
        </Text>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Device" placeholder="device id" data-autofocus {...form.getInputProps("device_id")} />
          <TextInput label="Site" placeholder="site id" {...form.getInputProps("site_id")} />
          <Select label="Rule" placeholder="any rule" data={(rules.data?.items ?? []).map((r) => ({ value: r.id, label: r.rule.name }))} searchable clearable {...form.getInputProps("rule_id")} />
          <MultiSelect label="Severities" placeholder="any severity" data={SEVERITIES} clearable {...form.getInputProps("severities")} />
        </SimpleGrid>
        <TagsInput label="Device tags" placeholder="key=value, Enter after each" {...form.getInputProps("tags")} />
        <WindowFields form={form} />
        <Textarea label="Comment" placeholder="why, e.g. planned firmware rollout" maxLength={1000} autosize minRows={2} {...form.getInputProps("reason")} />
        <FormActions onCancel={onClose} submitLabel="Create silence" loading={save.isPending} />
      </Stack>
    </form>
  );
}

/** POST /maintenance: a device or a whole site opens no alerts at all while the window lasts. */
export function MaintenanceForm({ onClose }: { onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [unmatched, setUnmatched] = useState<FieldError[]>([]);
  const form = useForm({
    initialValues: { target: "device", device_id: "", site_id: "", reason: "", starts_at: "", duration: "240", ends_at: "" },
    validate: {
      device_id: (value, v) => (v.target === "device" && !value.trim() ? "which device?" : null),
      site_id: (value, v) => (v.target === "site" && !value.trim() ? "which site?" : null),
      ends_at: (value, v) => (v.duration === "custom" && !value ? "choose when it ends" : null),
    },
  });
  const save = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(
        api.POST("/api/v1/maintenance", {
          body: {
            device_id: values.target === "device" ? values.device_id.trim() : null,
            site_id: values.target === "site" ? values.site_id.trim() : null,
            reason: values.reason,
            ...windowOf(values),
          },
        }),
      ),
    onMutate: () => setUnmatched([]),
    onSuccess: () => {
      showSaved("maintenance window started");
      void client.invalidateQueries({ queryKey: ["maintenance"] });
      onClose();
    },
    onError: (error) => setUnmatched(placeWriteError(error, form, ["device_id", "site_id", "reason", "starts_at", "ends_at"])),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <UnmatchedErrors errors={unmatched} title="The maintenance window was not created" />
        <SegmentedControl
          aria-label="Applies to"
          data={[
            { value: "device", label: "One device" },
            { value: "site", label: "A whole site" },
          ]}
          {...form.getInputProps("target")}
        />
        {form.values.target === "device" ? (
          <TextInput label="Device" placeholder="device id" required data-autofocus {...form.getInputProps("device_id")} />
        ) : (
          <TextInput label="Site" placeholder="site id" required data-autofocus {...form.getInputProps("site_id")} />
        )}
        <WindowFields form={form} />
        <Textarea label="Reason" maxLength={1000} autosize minRows={2} {...form.getInputProps("reason")} />
        <FormActions onCancel={onClose} submitLabel="Start maintenance" loading={save.isPending} />
      </Stack>
    </form>
  );
}
