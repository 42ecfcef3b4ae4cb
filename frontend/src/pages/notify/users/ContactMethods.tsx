import { Badge, Button, Group, Modal, PasswordInput, Select, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { IconPlus, IconSend } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions, RowActions } from "../../../components/actions";
import { showSaved, showWriteError } from "../../../components/forms";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { showFormError } from "../problems";
import { ifMatch, type TestResult } from "../shared";
import { TestResultView } from "../TestResultView";

export type ContactMethod = components["schemas"]["ContactMethod"];
type ContactKind = components["schemas"]["ContactKind"];

const KINDS: { value: ContactKind; label: string; address: string }[] = [
  { value: "email", label: "Email", address: "Email address" },
  { value: "sms", label: "SMS", address: "Phone number (+49…)" },
  { value: "slack", label: "Slack", address: "Slack member id (U…)" },
];

export const methodLabel = (m: ContactMethod) => `${m.kind}: ${m.label || m.address}`;

export function useContactMethods(username: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["contact-methods", username],
    queryFn: () => unwrap(api.GET("/api/v1/users/{username}/contact-methods", { params: { path: { username } } })),
  });
}

function MethodEditor({ username, method, onClose }: { username: string; method: ContactMethod | null; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm({
    mode: "controlled",
    initialValues: { kind: (method?.kind ?? "email") as ContactKind, address: method?.address ?? "", label: method?.label ?? "", slack_webhook_url: "", enabled: method?.enabled ?? true },
  });
  const v = form.getValues();
  const save = useMutation({
    mutationFn: (values: typeof v) => {
      const body = { kind: values.kind, address: values.address.trim(), label: values.label, enabled: values.enabled, slack_webhook_url: values.kind === "slack" && values.slack_webhook_url ? values.slack_webhook_url : undefined };
      return method
        ? unwrap(api.PUT("/api/v1/users/{username}/contact-methods/{method_id}", { params: { path: { username, method_id: method.id }, header: ifMatch(method.version) }, body }))
        : unwrap(api.POST("/api/v1/users/{username}/contact-methods", { params: { path: { username } }, body }));
    },
    onSuccess: (saved) => {
      showSaved(`contact method ${saved.address}`);
      void client.invalidateQueries({ queryKey: ["contact-methods", username] });
      onClose();
    },
    onError: (error) => showFormError(error, form),
  });
  const kind = KINDS.find((k) => k.value === v.kind)!;
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <Select label="Kind" data={KINDS} allowDeselect={false} disabled={!!method} {...form.getInputProps("kind")} />
        <TextInput label={kind.address} required data-autofocus {...form.getInputProps("address")} />
        <TextInput label="Label" description="e.g. work phone" {...form.getInputProps("label")} />
        {v.kind === "slack" && (
          <PasswordInput
            label="Slack incoming webhook URL"
            description={method ? "write-only; leave blank to keep the stored one" : "write-only: posts to you; never shown again"}
            required={!method}
            autoComplete="new-password"
            {...form.getInputProps("slack_webhook_url")}
          />
        )}
        <Switch label="Enabled" {...form.getInputProps("enabled", { type: "checkbox" })} />
        <FormActions onCancel={onClose} submitLabel={method ? "Save" : "Add contact method"} loading={save.isPending} />
      </Stack>
    </form>
  );
}

/** A person's contact methods (email, SMS, Slack) with send-test. */
export function ContactMethods({ username }: { username: string }) {
  const api = useApi();
  const client = useQueryClient();
  const query = useContactMethods(username);
  const [editing, setEditing] = useState<ContactMethod | null | undefined>(undefined);
  const [tested, setTested] = useState<{ method: ContactMethod; result: TestResult } | null>(null);
  const test = useMutation({
    mutationFn: (m: ContactMethod) => unwrap(api.POST("/api/v1/users/{username}/contact-methods/{method_id}/test", { params: { path: { username, method_id: m.id } } })),
    onSuccess: (result, method) => setTested({ method, result }),
    onError: (error) => showWriteError(error),
  });
  const remove = useMutation({
    mutationFn: (m: ContactMethod) => unwrap(api.DELETE("/api/v1/users/{username}/contact-methods/{method_id}", { params: { path: { username, method_id: m.id }, header: ifMatch(m.version) } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["contact-methods", username] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDelete = (m: ContactMethod) =>
    modals.openConfirmModal({
      title: `Delete ${methodLabel(m)}?`,
      children: "A method the notification policy uses cannot be deleted: take it out of the policy first.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(m),
    });
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={4}>Contact methods</Title>
        <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setEditing(null)}>
          Add contact method
        </Button>
      </Group>
      <QueryState query={query} isEmpty={(list) => list.length === 0} empty={<EmptyState title="No contact methods">Escalation steps cannot reach this person yet.</EmptyState>}>
        {(list) => (
          <Table.ScrollContainer minWidth={560}>
            <Table>
              <Table.Tbody>
                {list.map((m) => (
                  <Table.Tr key={m.id} data-testid="contact-method">
                    <Table.Td>
                      <Badge variant="light">{m.kind}</Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{m.address}</Text>
                      {m.label && <Text size="xs" c="dimmed">{m.label}</Text>}
                    </Table.Td>
                    <Table.Td>{!m.enabled && <Badge color="gray" variant="light">disabled</Badge>}</Table.Td>
                    <Table.Td>
                      <RowActions name={m.address} onEdit={() => setEditing(m)} onDelete={() => confirmDelete(m)}>
                        <Button size="xs" variant="light" leftSection={<IconSend size={14} />} loading={test.isPending && test.variables?.id === m.id} onClick={() => test.mutate(m)} aria-label={`Test ${m.address}`}>
                          Test
                        </Button>
                      </RowActions>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Modal opened={editing !== undefined} onClose={() => setEditing(undefined)} title={editing ? `Edit ${editing.address}` : "New contact method"}>
        {editing !== undefined && <MethodEditor username={username} method={editing} onClose={() => setEditing(undefined)} />}
      </Modal>
      <Modal size="lg" opened={!!tested} onClose={() => setTested(null)} title="Test page">
        {tested && <TestResultView result={tested.result} target={tested.method.address} />}
      </Modal>
    </Stack>
  );
}
