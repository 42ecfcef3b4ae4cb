import { Checkbox, Chip, Group, Paper, Select, SimpleGrid, Stack, Switch, TagsInput, Text, TextInput, Textarea, Title } from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";

import { SEVERITIES } from "./model";
import { WEEKDAYS, type RuleFormValues } from "./ruleForm";

type Form = UseFormReturnType<RuleFormValues>;

/** Name, severity, description and flags of a rule. */
export function RuleBasics({ form, isNew }: { form: Form; isNew: boolean }) {
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
          <TextInput label="Rule id" required disabled={!isNew} description={isNew ? "letters, digits and _ . : -; cannot change later" : undefined} {...form.getInputProps("id")} />
          <TextInput label="Name" required {...form.getInputProps("name")} />
          <Select label="Severity" required data={SEVERITIES} allowDeselect={false} {...form.getInputProps("severity")} />
          <Stack gap={6} pt={4}>
            <Switch label="Enabled" {...form.getInputProps("enabled", { type: "checkbox" })} />
            <Switch label="Latch (stay open until acknowledged)" {...form.getInputProps("latch", { type: "checkbox" })} />
          </Stack>
        </SimpleGrid>
        <Textarea label="Description" autosize minRows={1} maxLength={2000} {...form.getInputProps("description")} />
      </Stack>
    </Paper>
  );
}

/** Which devices the rule watches: empty lists match every device; all tags must match. */
export function RuleScope({ form }: { form: Form }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="rule-scope-heading">
      <Title order={4} id="rule-scope-heading" mb={4}>
        Scope
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Empty lists match every device of your tenant; a device must carry all of the tags. Press Enter after each entry.
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TagsInput label="Devices" placeholder="device id" clearable {...form.getInputProps("scope.device_ids")} />
        <TagsInput label="Sites" placeholder="site id" clearable {...form.getInputProps("scope.site_ids")} />
        <TagsInput label="Models" placeholder="model" clearable {...form.getInputProps("scope.models")} />
        <TagsInput label="Tags" placeholder="key=value" clearable {...form.getInputProps("scope.tags")} />
      </SimpleGrid>
      {form.errors.scope && (
        <Text size="sm" c="red" mt="xs">
          {form.errors.scope}
        </Text>
      )}
    </Paper>
  );
}

/** When the rule may open alerts (local times on weekdays; empty time zone: the device's site's). */
export function RuleSchedule({ form }: { form: Form }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="rule-schedule-heading">
      <Group justify="space-between" mb="xs">
        <Title order={4} id="rule-schedule-heading">
          Active schedule
        </Title>
        <Checkbox label="Only at certain times" {...form.getInputProps("useSchedule", { type: "checkbox" })} />
      </Group>
      {form.values.useSchedule ? (
        <Stack gap="sm">
          <Chip.Group multiple value={form.values.schedule.weekdays} onChange={(v) => form.setFieldValue("schedule.weekdays", v)}>
            <Group gap={6} role="group" aria-label="Weekdays">
              {WEEKDAYS.map((d) => (
                <Chip key={d} value={d} size="sm">
                  {d}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
          {form.errors["schedule.weekdays"] && (
            <Text size="sm" c="red">
              {form.errors["schedule.weekdays"]}
            </Text>
          )}
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput type="time" label="From" {...form.getInputProps("schedule.start")} />
            <TextInput type="time" label="Until" description="at or before From: runs over midnight" {...form.getInputProps("schedule.end")} />
            <TextInput label="Time zone" placeholder="the device's site time zone" {...form.getInputProps("schedule.timezone")} />
          </SimpleGrid>
          {form.errors.schedule && (
            <Text size="sm" c="red">
              {form.errors.schedule}
            </Text>
          )}
        </Stack>
      ) : (
        <Text size="sm" c="dimmed">
          The rule is active all the time.
        </Text>
      )}
    </Paper>
  );
}
