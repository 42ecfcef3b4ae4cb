import { Button, Group, Stack, Switch, Text, TextInput, Textarea } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved } from "../../../components/forms";
import { showFormError } from "../problems";
import { browserZone, ifMatch, useDirectory, type Schedule } from "../shared";
import { TimezoneInput } from "../TimezoneInput";
import { LayerCard } from "./LayerCard";
import { mapScheduleField, newLayer, toBody, toForm, type ScheduleForm } from "./scheduleForm";
import { localDate } from "./time";

/** A schedule's name, zone and layers (each a rotation of ordered users, optionally restricted to windows). */
export function ScheduleEditor({ schedule, onClose, onSaved }: { schedule: Schedule | null; onClose: () => void; onSaved?: (saved: Schedule) => void }) {
  const api = useApi();
  const client = useQueryClient();
  const directory = useDirectory();
  const today = localDate(new Date(), schedule?.timezone ?? browserZone());
  const form = useForm<ScheduleForm>({
    mode: "controlled",
    initialValues: toForm(schedule, browserZone(), today),
    validate: { name: (v) => (v.trim() ? null : "a schedule needs a name") },
  });
  const v = form.getValues();
  const save = useMutation({
    mutationFn: (values: ScheduleForm) =>
      schedule
        ? unwrap(api.PUT("/api/v1/oncall/schedules/{schedule_id}", { params: { path: { schedule_id: schedule.id }, header: ifMatch(schedule.version) }, body: toBody(values) }))
        : unwrap(api.POST("/api/v1/oncall/schedules", { body: toBody(values) })),
    onSuccess: (saved) => {
      showSaved(`schedule ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["oncall-schedules"] });
      void client.invalidateQueries({ queryKey: ["oncall", saved.id] });
      onSaved?.(saved);
      onClose();
    },
    onError: (error) => showFormError(error, form, { mapField: mapScheduleField }),
  });
  const nextPriority = Math.max(-1, ...v.layers.map((l) => Number(l.priority) || 0)) + 1;
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <Group grow align="flex-start">
          <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
          <TimezoneInput label="Time zone" description="every handoff and window is local time here" {...form.getInputProps("timezone")} />
        </Group>
        <Textarea label="Description" autosize minRows={1} {...form.getInputProps("description")} />
        <Switch label="Raise a coverage-gap alert for holes in the next 7 days" {...form.getInputProps("alert_on_gaps", { type: "checkbox" })} />
        {typeof form.errors.layers === "string" && (
          <Text c="red" size="sm" role="alert">
            {form.errors.layers}
          </Text>
        )}
        {v.layers.map((layer, index) => (
          <LayerCard key={layer.key} form={form} index={index} count={v.layers.length} users={directory.options} label={directory.label} />
        ))}
        <Group>
          <Button variant="light" size="xs" leftSection={<IconPlus size={14} />} onClick={() => form.insertListItem("layers", newLayer(nextPriority, today))}>
            Add layer
          </Button>
        </Group>
        <FormActions onCancel={onClose} submitLabel={schedule ? "Save" : "Create schedule"} loading={save.isPending} />
      </Stack>
    </form>
  );
}
