import { Alert, Button, Code, Group, Stack, Table, Text } from "@mantine/core";

import { describeChanges, showValue, type Change, type JsonObject } from "./twinPatch";

function ChangeTable({ changes, label }: { changes: Change[]; label: string }) {
  if (changes.length === 0)
    return (
      <Text size="sm" c="dimmed">
        {label}: nothing
      </Text>
    );
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Table.ScrollContainer minWidth={420}>
        <Table withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Key</Table.Th>
              <Table.Th>Was</Table.Th>
              <Table.Th>Now</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {changes.map((c) => (
              <Table.Tr key={c.path}>
                <Table.Td>
                  <Code>{c.path}</Code>
                </Table.Td>
                <Table.Td>{showValue(c.before)}</Table.Td>
                <Table.Td>{showValue(c.after)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

export interface TwinSnapshot {
  version: number;
  desired: JsonObject;
  reported: JsonObject;
}

/** A 409 on Save desired: what others changed since the editor's version, and the way forward. */
export function TwinConflict({
  base,
  latest,
  mine,
  onReapply,
  onDiscard,
  busy,
}: {
  base: TwinSnapshot;
  latest: TwinSnapshot;
  mine: JsonObject;
  onReapply: () => void;
  onDiscard: () => void;
  busy: boolean;
}) {
  const desired = describeChanges(base.desired, latest.desired).map((c) => ({ ...c, path: `desired.${c.path}` }));
  const reported = describeChanges(base.reported, latest.reported).map((c) => ({ ...c, path: `reported.${c.path}` }));
  return (
    <Alert color="orange" title="Version conflict: the twin changed since you read it" role="alert">
      <Stack gap="sm">
        <Text size="sm">
          You edited version {base.version}; the twin is now version {latest.version}. Nothing was saved.
        </Text>
        <ChangeTable label="Changed meanwhile" changes={[...desired, ...reported]} />
        <ChangeTable label="Your edits" changes={describeChanges(base.desired, mine)} />
        <Group gap="xs" wrap="wrap">
          <Button onClick={onReapply} loading={busy}>
            Reload and reapply
          </Button>
          <Button variant="default" onClick={onDiscard} disabled={busy}>
            Discard my edits
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
