import { Alert, Badge, Button, Group, List, Modal, Stack, TagsInput, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { FormActions } from "../../components/actions";
import { showWriteError } from "../../components/forms";
import { parseTagPairs, topLevelErrors } from "./shared";

type BulkTagResult = components["schemas"]["BulkTagResult"];

interface BulkTagForm {
  set: string[];
  remove: string[];
}

function BulkTagResultView({ result }: { result: BulkTagResult }) {
  return (
    <Stack gap="xs" data-testid="bulk-tag-result">
      <Group gap="xs" wrap="wrap">
        <Badge variant="light">{result.requested} requested</Badge>
        <Badge variant="light" color="green">
          {result.updated} updated
        </Badge>
        <Badge variant="light" color="gray">
          {result.unchanged} unchanged
        </Badge>
        <Badge variant="light" color={result.not_found.length ? "red" : "gray"}>
          {result.not_found.length} unknown
        </Badge>
        <Badge variant="light" color={result.refused.length ? "orange" : "gray"}>
          {result.refused.length} refused
        </Badge>
      </Group>
      {result.not_found.length > 0 && (
        <Alert color="red" title="Unknown device ids (nothing changed for them)">
          <Text size="sm">{result.not_found.join(", ")}</Text>
        </Alert>
      )}
      {result.refused.length > 0 && (
        <Alert color="orange" title="Refused (left as they were)">
          <List size="sm">
            {result.refused.map((r) => (
              <List.Item key={r.device_id}>
                {r.device_id}: {r.reason}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
    </Stack>
  );
}

/** "Tag selected": set and/or remove tag keys on the selected devices in one request (administrators). */
export function BulkTagModal({ deviceIds, opened, onClose, onApplied }: { deviceIds: string[]; opened: boolean; onClose: () => void; onApplied: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [result, setResult] = useState<BulkTagResult | null>(null);
  const form = useForm<BulkTagForm>({
    initialValues: { set: [], remove: [] },
    validate: {
      set: (v, values) => parseTagPairs(v).error ?? (v.length === 0 && values.remove.length === 0 ? "give tags to set and/or keys to remove" : null),
    },
  });
  const apply = useMutation({
    mutationFn: (values: BulkTagForm) =>
      unwrap(api.POST("/api/v1/devices:bulk-tag", { body: { device_ids: deviceIds, set: parseTagPairs(values.set).tags, remove: values.remove } })),
    onSuccess: (answer) => {
      setResult(answer);
      void client.invalidateQueries({ queryKey: ["devices"] });
      onApplied();
    },
    onError: (error) => showWriteError(error, topLevelErrors(form)),
  });
  const close = () => {
    setResult(null);
    form.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={`Tag ${deviceIds.length} selected device${deviceIds.length === 1 ? "" : "s"}`} size="lg">
      {result ? (
        <Stack>
          <BulkTagResultView result={result} />
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((values) => apply.mutate(values))}>
          <Stack>
            <TagsInput label="Set tags" description="key=value, added or overwritten; Enter after each" data-autofocus {...form.getInputProps("set")} />
            <TagsInput label="Remove tag keys" description="keys to remove; absent keys are fine" {...form.getInputProps("remove")} />
            <FormActions onCancel={close} submitLabel="Apply tags" loading={apply.isPending} />
          </Stack>
        </form>
      )}
    </Modal>
  );
}
