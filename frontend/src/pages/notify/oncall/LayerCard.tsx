import { ActionIcon, Badge, Button, Group, MultiSelect, NumberInput, Paper, Select, SimpleGrid, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { TimeInput } from "@mantine/dates";
import type { UseFormReturnType } from "@mantine/form";
import { IconArrowDown, IconArrowUp, IconPlus, IconTrash, IconX } from "@tabler/icons-react";
import { useState } from "react";

import { withUnknown } from "../shared";
import { WEEKDAY_NAMES, newRestriction, type ScheduleForm } from "./scheduleForm";

type Form = UseFormReturnType<ScheduleForm>;

/** Ordered users of a rotation: shift k belongs to users[k % n]; a name may appear more than once. */
function RotationUsers({ form, index, users, label }: { form: Form; index: number; users: { value: string; label: string }[]; label: (u: string) => string }) {
  const path = `layers.${index}.rotation.users`;
  const list = form.getValues().layers[index].rotation.users;
  const [pick, setPick] = useState<string | null>(null);
  const error = form.errors[path];
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        Layer {index + 1}: users in rotation order
      </Text>
      {list.length === 0 && (
        <Text size="sm" c="dimmed">
          Nobody yet.
        </Text>
      )}
      {list.map((username, i) => (
        <Group key={`${username}-${i}`} gap={4} wrap="nowrap" data-testid={`layer-${index}-user`}>
          <Text size="sm" w={24}>
            {i + 1}.
          </Text>
          <Text size="sm" style={{ flex: 1 }}>
            {label(username)}
          </Text>
          <ActionIcon variant="subtle" aria-label={`Move ${label(username)} up in layer ${index + 1}`} disabled={i === 0} onClick={() => form.reorderListItem(path, { from: i, to: i - 1 })}>
            <IconArrowUp size={14} />
          </ActionIcon>
          <ActionIcon variant="subtle" aria-label={`Move ${label(username)} down in layer ${index + 1}`} disabled={i === list.length - 1} onClick={() => form.reorderListItem(path, { from: i, to: i + 1 })}>
            <IconArrowDown size={14} />
          </ActionIcon>
          <ActionIcon variant="subtle" color="red" aria-label={`Remove ${label(username)} from layer ${index + 1}`} onClick={() => form.removeListItem(path, i)}>
            <IconX size={14} />
          </ActionIcon>
        </Group>
      ))}
      <Group gap="xs" align="flex-end">
        <Select aria-label={`User to add to layer ${index + 1}`} placeholder="pick a user" data={users} value={pick} onChange={setPick} searchable w={260} />
        <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} disabled={!pick} onClick={() => (form.insertListItem(path, pick), setPick(null))}>
          Add to rotation
        </Button>
      </Group>
      {error && (
        <Text c="red" size="sm">
          {error}
        </Text>
      )}
    </Stack>
  );
}

export function LayerCard({ form, index, count, users, label }: { form: Form; index: number; count: number; users: { value: string; label: string }[]; label: (u: string) => string }) {
  const layer = form.getValues().layers[index];
  const path = `layers.${index}`;
  const n = index + 1;
  return (
    <Paper withBorder p="sm" data-testid="layer-card">
      <Stack gap="xs">
        <Group justify="space-between">
          <Badge variant="light">Layer {n}</Badge>
          <Tooltip label="Remove layer">
            <ActionIcon variant="subtle" color="red" aria-label={`Remove layer ${n}`} disabled={count === 1} onClick={() => form.removeListItem("layers", index)}>
              <IconTrash size={16} />
            </ActionIcon>
          </Tooltip>
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={`Layer ${n}: name`} {...form.getInputProps(`${path}.name`)} />
          <NumberInput label={`Layer ${n}: priority`} description="the highest priority layer with someone on call wins" min={0} max={1000} {...form.getInputProps(`${path}.priority`)} />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 4 }}>
          <Select
            label={`Layer ${n}: rotation`}
            data={[
              { value: "daily", label: "daily" },
              { value: "weekly", label: "weekly" },
              { value: "custom", label: "custom length" },
            ]}
            allowDeselect={false}
            {...form.getInputProps(`${path}.rotation.kind`)}
          />
          {layer.rotation.kind === "custom" && <NumberInput label={`Layer ${n}: days per shift`} min={1} max={365} {...form.getInputProps(`${path}.rotation.length_days`)} />}
          <TimeInput label={`Layer ${n}: handoff time`} {...form.getInputProps(`${path}.rotation.handoff_time`)} />
          <TextInput type="date" label={`Layer ${n}: first handoff`} {...form.getInputProps(`${path}.rotation.start_date`)} />
        </SimpleGrid>
        <RotationUsers form={form} index={index} users={withUnknown(users, layer.rotation.users)} label={label} />
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Layer {n}: on call only during {layer.restrictions.length === 0 && <Text span size="sm" c="dimmed">(around the clock)</Text>}
          </Text>
          {layer.restrictions.map((r, i) => (
            <Group key={r.key} gap="xs" align="flex-end" wrap="wrap">
              <MultiSelect
                aria-label={`Layer ${n} window ${i + 1} days`}
                data={WEEKDAY_NAMES.map((d, v) => ({ value: String(v), label: d }))}
                w={280}
                {...form.getInputProps(`${path}.restrictions.${i}.weekdays`)}
              />
              <TimeInput aria-label={`Layer ${n} window ${i + 1} from`} {...form.getInputProps(`${path}.restrictions.${i}.start`)} />
              <TimeInput aria-label={`Layer ${n} window ${i + 1} until`} description="00:00: end of day" {...form.getInputProps(`${path}.restrictions.${i}.end`)} />
              <ActionIcon variant="subtle" color="red" aria-label={`Remove window ${i + 1} of layer ${n}`} onClick={() => form.removeListItem(`${path}.restrictions`, i)}>
                <IconX size={14} />
              </ActionIcon>
            </Group>
          ))}
          <Group>
            <Button size="xs" variant="subtle" leftSection={<IconPlus size={14} />} onClick={() => form.insertListItem(`${path}.restrictions`, newRestriction())}>
              Add time window
            </Button>
          </Group>
        </Stack>
      </Stack>
    </Paper>
  );
}
