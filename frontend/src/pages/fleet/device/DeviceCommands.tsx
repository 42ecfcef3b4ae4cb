import { Button, Code, Group, NumberInput, Paper, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { StatusBadge } from "../../../components/badges";
import { formatTime, timeAgo } from "../../../components/format";
import { showSaved, showWriteError } from "../../../components/forms";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { parseDesired } from "./twinPatch";

type Command = components["schemas"]["Command"];

/** Only these can still be cancelled (the API answers 409 for the rest). */
export const CANCELLABLE: Command["status"][] = ["queued", "sent"];

interface CommandForm {
  name: string;
  params: string;
  ttl_s: number | string;
}

function SendCommand({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm<CommandForm>({
    initialValues: { name: "", params: "{}", ttl_s: 300 },
    validate: {
      name: (v) => (/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(v) ? null : "1-64 letters, digits and _ . - starting with a letter"),
      params: (v) => parseDesired(v, "parameters").error,
      ttl_s: (v) => (v !== "" && Number(v) >= 1 && Number(v) <= 604800 ? null : "1 s to 7 days (604800 s)"),
    },
  });
  const send = useMutation({
    mutationFn: (values: CommandForm) =>
      unwrap(
        api.POST("/api/v1/devices/{device_id}/commands", {
          params: { path: { device_id: deviceId } },
          body: { name: values.name, params: parseDesired(values.params).value ?? {}, ttl_s: Number(values.ttl_s) },
        }),
      ),
    onSuccess: (command) => {
      showSaved(`command ${command.name} queued`);
      form.setFieldValue("name", "");
      void client.invalidateQueries({ queryKey: ["devices", "commands", deviceId] });
    },
    onError: (error) => showWriteError(error, form),
  });
  return (
    <Paper withBorder p="sm">
      <form onSubmit={form.onSubmit((values) => send.mutate(values))}>
        <Stack gap="sm">
          <Title order={4}>Send a command</Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Command name" placeholder="reboot" required {...form.getInputProps("name")} />
            <NumberInput label="Expires after (s)" description="unacknowledged after this: expired" min={1} max={604800} {...form.getInputProps("ttl_s")} />
          </SimpleGrid>
          <Textarea
            label="Parameters (JSON)"
            autosize
            minRows={2}
            maxRows={10}
            spellCheck={false}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
            {...form.getInputProps("params")}
          />
          <Group justify="flex-end">
            <Button type="submit" loading={send.isPending}>
              Send command
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function Outcome({ command }: { command: Command }) {
  if (command.error)
    return (
      <Text size="sm" c="red">
        {command.error}
      </Text>
    );
  if (command.result) return <Code>{JSON.stringify(command.result)}</Code>;
  return <>—</>;
}

export function DeviceCommands({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const client = useQueryClient();
  const paged = usePagedQuery(
    ["devices", "commands", deviceId],
    (cursor) => unwrap(api.GET("/api/v1/devices/{device_id}/commands", { params: { path: { device_id: deviceId }, query: { cursor, limit: 20 } } })),
    { refetchInterval: LIVE_REFRESH_MS },
  );
  const cancel = useMutation({
    mutationFn: (command: Command) => unwrap(api.POST("/api/v1/commands/{command_id}/cancel", { params: { path: { command_id: command.id } } })),
    onSuccess: (command) => {
      showSaved(`command ${command.name} cancelled`);
      void client.invalidateQueries({ queryKey: ["devices", "commands", deviceId] });
    },
    onError: (error) => showWriteError(error),
  });
  const confirmCancel = (command: Command) =>
    modals.openConfirmModal({
      title: `Cancel command ${command.name}?`,
      children: "The device will not act on it, or its answer will be ignored if it already has it.",
      labels: { confirm: "Cancel command", cancel: "Keep it" },
      confirmProps: { color: "red" },
      onConfirm: () => cancel.mutate(command),
    });

  return (
    <Stack>
      <WriteOnly>
        <SendCommand deviceId={deviceId} />
      </WriteOnly>
      <Title order={4}>Commands</Title>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No commands sent yet" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={960}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Command</Table.Th>
                  <Table.Th miw={120}>Status</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Sent</Table.Th>
                  <Table.Th>Finished</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {c.name}
                      </Text>
                      {Object.keys(c.params).length > 0 && <Code>{JSON.stringify(c.params)}</Code>}
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={c.status} />
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={formatTime(c.created_at)}>
                        <Text size="sm">
                          {timeAgo(c.created_at)} by {c.created_by}
                        </Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>{formatTime(c.sent_at)}</Table.Td>
                    <Table.Td>{formatTime(c.finished_at)}</Table.Td>
                    <Table.Td>{formatTime(c.expires_at)}</Table.Td>
                    <Table.Td>
                      <Outcome command={c} />
                    </Table.Td>
                    <Table.Td>
                      {CANCELLABLE.includes(c.status) && (
                        <WriteOnly>
                          <Button size="xs" variant="subtle" color="red" aria-label={`Cancel command ${c.name} (${c.id})`} onClick={() => confirmCancel(c)}>
                            Cancel
                          </Button>
                        </WriteOnly>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
    </Stack>
  );
}
