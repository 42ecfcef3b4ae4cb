import { Button, Group, SimpleGrid, TextInput } from "@mantine/core";
import { DateTimePicker } from "@mantine/dates";
import { useForm } from "@mantine/form";

/** What /api/v1/audit and /api/v1/audit/export filter on; every field is an exact match, the times a range. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  entity_type?: string;
  entity_id?: string;
  since?: string;
  until?: string;
}

interface FilterValues {
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  since: Date | null;
  until: Date | null;
}

const EMPTY: FilterValues = { actor: "", action: "", entity_type: "", entity_id: "", since: null, until: null };

export function toAuditQuery(values: FilterValues): AuditQuery {
  const text = (v: string) => v.trim() || undefined;
  return {
    actor: text(values.actor),
    action: text(values.action),
    entity_type: text(values.entity_type),
    entity_id: text(values.entity_id),
    since: values.since ? values.since.toISOString() : undefined,
    until: values.until ? values.until.toISOString() : undefined,
  };
}

export function AuditFilters({ onApply }: { onApply: (query: AuditQuery) => void }) {
  const form = useForm<FilterValues>({
    initialValues: EMPTY,
    validate: { until: (v, values) => (v && values.since && v <= values.since ? "must be after From" : null) },
  });
  return (
    <form onSubmit={form.onSubmit((values) => onApply(toAuditQuery(values)))} aria-label="Audit filters">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="xs" mb="xs">
        <TextInput label="Actor" placeholder="e.g. alice@example.com" {...form.getInputProps("actor")} />
        <TextInput label="Action" placeholder="e.g. device.update" {...form.getInputProps("action")} />
        <TextInput label="Entity type" placeholder="e.g. device" {...form.getInputProps("entity_type")} />
        <TextInput label="Entity id" {...form.getInputProps("entity_id")} />
        <DateTimePicker label="From" clearable valueFormat="YYYY-MM-DD HH:mm" {...form.getInputProps("since")} />
        <DateTimePicker label="To" clearable valueFormat="YYYY-MM-DD HH:mm" {...form.getInputProps("until")} />
      </SimpleGrid>
      <Group gap="xs" mb="md">
        <Button type="submit" size="xs">
          Apply filters
        </Button>
        <Button
          size="xs"
          variant="default"
          onClick={() => {
            form.setValues(EMPTY);
            onApply({});
          }}
        >
          Clear
        </Button>
      </Group>
    </form>
  );
}
