import { Button, Checkbox, Fieldset, Group, MultiSelect, NumberInput, SimpleGrid, Stack, Switch, Text, TextInput, Textarea } from "@mantine/core";
import { TimeInput } from "@mantine/dates";
import { useForm } from "@mantine/form";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved } from "../../../components/forms";
import { showFormError } from "../problems";
import { browserZone, ifMatch, withUnknown, type EscalationPolicy } from "../shared";
import { TimezoneInput } from "../TimezoneInput";
import { STEP_KINDS, STEP_TAGS, WEEKDAYS, mapPolicyField, newStep, toBody, toForm, type PolicyForm } from "./policyForm";
import { StepCard, type Pickers } from "./StepCard";

export function PolicyEditor({ policy, pickers, onClose }: { policy: EscalationPolicy | null; pickers: Pickers; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm<PolicyForm>({
    mode: "controlled",
    initialValues: toForm(policy, browserZone()),
    validate: {
      name: (v) => (v.trim() ? null : "a policy needs a name"),
      steps: (steps) => (steps.some((s) => s.kind !== "wait") ? null : "at least one step must do something besides waiting"),
    },
  });
  const v = form.getValues();
  const save = useMutation({
    mutationFn: (values: PolicyForm) =>
      policy
        ? unwrap(api.PUT("/api/v1/escalation-policies/{policy_id}", { params: { path: { policy_id: policy.id }, header: ifMatch(policy.version) }, body: toBody(values) }))
        : unwrap(api.POST("/api/v1/escalation-policies", { body: toBody(values) })),
    onSuccess: (saved) => {
      showSaved(`escalation policy ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["escalation-policies"] });
      onClose();
    },
    onError: (error) => showFormError(error, form, { dropSegments: STEP_TAGS, mapField: mapPolicyField }),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
          <TimezoneInput label="Time zone" description="of the active window" {...form.getInputProps("timezone")} />
        </SimpleGrid>
        <Textarea label="Description" autosize minRows={1} {...form.getInputProps("description")} />
        <Fieldset legend="Steps, in order">
          <Stack gap="xs">
            {form.errors.steps && (
              <Text c="red" size="sm" role="alert">
                {form.errors.steps}
              </Text>
            )}
            {v.steps.map((step, index) => (
              <StepCard key={step.key} form={form} index={index} count={v.steps.length} pickers={pickers} />
            ))}
            <Group gap="xs" wrap="wrap">
              {STEP_KINDS.map((k) => (
                <Button key={k.value} size="xs" variant="light" leftSection={<IconPlus size={14} />} disabled={v.steps.length >= 20} onClick={() => form.insertListItem("steps", newStep(k.value))}>
                  {k.label}
                </Button>
              ))}
            </Group>
            <NumberInput label="Repeat count" description="the steps run again this many times (needs a wait step)" min={0} max={10} w={260} {...form.getInputProps("repeat_count")} />
          </Stack>
        </Fieldset>
        <Fieldset legend="Active window">
          <Stack gap="xs">
            <Switch label="Only run steps inside a window (steps due outside wait for its start)" {...form.getInputProps("window_on", { type: "checkbox" })} />
            {v.window_on && (
              <>
                <Checkbox.Group label="Days" {...form.getInputProps("active_window.days")}>
                  <Group gap="sm" mt={4}>
                    {WEEKDAYS.map((d) => (
                      <Checkbox key={d} value={d} label={d} />
                    ))}
                  </Group>
                </Checkbox.Group>
                <Group grow>
                  <TimeInput label="From" {...form.getInputProps("active_window.start")} />
                  <TimeInput label="Until" description="before From: spans midnight" {...form.getInputProps("active_window.end")} />
                </Group>
                {typeof form.errors.active_window === "string" && (
                  <Text c="red" size="sm">
                    {form.errors.active_window}
                  </Text>
                )}
              </>
            )}
          </Stack>
        </Fieldset>
        <Fieldset legend="Reminders">
          <Stack gap="xs">
            <Switch label="Remind while an alert is acknowledged but not resolved" {...form.getInputProps("reminder_on", { type: "checkbox" })} />
            {v.reminder_on && (
              <Group grow align="flex-start">
                <NumberInput label="Every (minutes)" min={5} max={1440} {...form.getInputProps("reminder.every_minutes")} />
                <MultiSelect label="Reminder channels" data={withUnknown(pickers.channels, v.reminder.channel_ids)} searchable {...form.getInputProps("reminder.channel_ids")} />
              </Group>
            )}
          </Stack>
        </Fieldset>
        <FormActions onCancel={onClose} submitLabel={policy ? "Save" : "Create policy"} loading={save.isPending} />
      </Stack>
    </form>
  );
}
