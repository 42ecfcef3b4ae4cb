import { ActionIcon, Badge, Group, MultiSelect, NumberInput, Paper, Select, Stack, Tooltip } from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";
import { IconArrowDown, IconArrowUp, IconTrash } from "@tabler/icons-react";

import { SEVERITIES, withUnknown } from "../shared";
import { STEP_KINDS, type PolicyForm, type StepKind } from "./policyForm";

export interface Pickers {
  users: { value: string; label: string }[];
  channels: { value: string; label: string }[];
  schedules: { value: string; label: string }[];
}

/** One ordered step: its kind, the kind's fields (with their problem errors), and move/remove. */
export function StepCard({ form, index, count, pickers }: { form: UseFormReturnType<PolicyForm>; index: number; count: number; pickers: Pickers }) {
  const step = form.getValues().steps[index];
  const path = `steps.${index}`;
  const n = index + 1;
  return (
    <Paper withBorder p="sm" data-testid="step-card">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Group gap="xs">
            <Badge variant="light">Step {n}</Badge>
            <Select
              aria-label={`Step ${n} kind`}
              data={STEP_KINDS}
              allowDeselect={false}
              w={200}
              {...form.getInputProps(`${path}.kind`)}
              onChange={(value) => value && form.setFieldValue(`${path}.kind`, value as StepKind)}
            />
          </Group>
          <Group gap={4}>
            <Tooltip label="Move up">
              <ActionIcon variant="subtle" aria-label={`Move step ${n} up`} disabled={index === 0} onClick={() => form.reorderListItem("steps", { from: index, to: index - 1 })}>
                <IconArrowUp size={16} />
              </ActionIcon>
            </Tooltip>
            <Tooltip label="Move down">
              <ActionIcon variant="subtle" aria-label={`Move step ${n} down`} disabled={index === count - 1} onClick={() => form.reorderListItem("steps", { from: index, to: index + 1 })}>
                <IconArrowDown size={16} />
              </ActionIcon>
            </Tooltip>
            <Tooltip label="Remove">
              <ActionIcon variant="subtle" color="red" aria-label={`Remove step ${n}`} disabled={count === 1} onClick={() => form.removeListItem("steps", index)}>
                <IconTrash size={16} />
              </ActionIcon>
            </Tooltip>
          </Group>
        </Group>
        {step.kind === "wait" && <NumberInput label={`Step ${n}: wait (minutes)`} min={1} max={1440} {...form.getInputProps(`${path}.minutes`)} />}
        {step.kind === "notify_users" && (
          <MultiSelect
            label={`Step ${n}: users`}
            description="paged through their personal notification policy"
            data={withUnknown(pickers.users, step.usernames)}
            searchable
            {...form.getInputProps(`${path}.usernames`)}
          />
        )}
        {step.kind === "notify_on_call" && (
          <Select label={`Step ${n}: on-call schedule`} data={withUnknown(pickers.schedules, [step.schedule_id])} searchable {...form.getInputProps(`${path}.schedule_id`)} />
        )}
        {step.kind === "notify_channels" && (
          <MultiSelect label={`Step ${n}: channels`} data={withUnknown(pickers.channels, step.channel_ids)} searchable {...form.getInputProps(`${path}.channel_ids`)} />
        )}
        {step.kind === "raise_severity" && (
          <Select label={`Step ${n}: raise severity to`} description="never lowered" data={SEVERITIES} allowDeselect={false} {...form.getInputProps(`${path}.severity`)} />
        )}
      </Stack>
    </Paper>
  );
}
