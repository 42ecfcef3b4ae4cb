import { Badge, Button, Code, Group, Paper, SimpleGrid, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { ApiError, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { formatTime } from "../../../components/format";
import { showSaved, showWriteError } from "../../../components/forms";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { WriteOnly } from "../../../components/WriteOnly";
import { ifMatch } from "../shared";
import { TwinConflict, type TwinSnapshot } from "./TwinConflict";
import { applyPatch, isObject, mergePatch, parseDesired, pretty, type JsonObject } from "./twinPatch";

type TwinView = components["schemas"]["TwinView"];

const section = (twin: TwinView, name: "desired" | "reported" | "delta"): JsonObject => {
  const value = (twin.state as Record<string, unknown>)[name];
  return isObject(value) ? value : {};
};
const snapshot = (twin: TwinView): TwinSnapshot => ({ version: twin.version, desired: section(twin, "desired"), reported: section(twin, "reported") });

function JsonSection({ title, value, testId }: { title: string; value: JsonObject; testId: string }) {
  return (
    <Paper withBorder p="sm">
      <Title order={4} mb="xs">
        {title}
      </Title>
      {Object.keys(value).length === 0 ? (
        <Text size="sm" c="dimmed">
          empty
        </Text>
      ) : (
        <Code block data-testid={testId} style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
          {pretty(value)}
        </Code>
      )}
    </Paper>
  );
}

interface Conflict {
  latest: TwinView;
  patch: JsonObject;
}

/** Desired-state editor: the edit goes out as a merge patch under If-Match; a 409 shows what changed. */
function TwinEditor({ deviceId, twin }: { deviceId: string; twin: TwinView }) {
  const api = useApi();
  const client = useQueryClient();
  const [base, setBase] = useState<TwinView>(twin);
  const [draft, setDraft] = useState(() => pretty(section(twin, "desired")));
  const [serverError, setServerError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const edited = draft !== pretty(section(base, "desired"));

  // While nothing is edited the editor follows the live twin; an edit pins the version it started from.
  useEffect(() => {
    if (!edited && !conflict && twin.version !== base.version) {
      setBase(twin);
      setDraft(pretty(section(twin, "desired")));
    }
  }, [twin, edited, conflict, base.version]);

  const loadLatest = () => unwrap(api.GET("/api/v1/devices/{device_id}/twin", { params: { path: { device_id: deviceId } } }));
  const save = useMutation({
    mutationFn: ({ patch, version }: { patch: JsonObject; version: number }) =>
      unwrap(api.PATCH("/api/v1/devices/{device_id}/twin", { params: { path: { device_id: deviceId }, header: ifMatch(version) }, body: { state: { desired: patch } } })),
    onSuccess: (saved) => {
      setConflict(null);
      setBase(saved);
      setDraft(pretty(section(saved, "desired")));
      client.setQueryData(["devices", "twin", deviceId], saved);
      void client.invalidateQueries({ queryKey: ["devices", "twin-history", deviceId] });
      showSaved(`desired state, version ${saved.version}`);
    },
    onError: async (error, { patch }) => {
      if (error instanceof ApiError && error.status === 409) {
        try {
          setConflict({ latest: await loadLatest(), patch });
        } catch (reload) {
          showWriteError(reload);
        }
        return;
      }
      showWriteError(error, { setErrors: (errors) => setServerError(Object.entries(errors).map(([f, m]) => `${f}: ${m}`).join("; ")) });
    },
  });

  const parsed = parseDesired(draft);
  const submit = () => {
    if (!parsed.value) return;
    const patch = mergePatch(section(base, "desired"), parsed.value);
    if (Object.keys(patch).length === 0) {
      notifications.show({ color: "blue", title: "Nothing to save", message: "The desired state is unchanged." });
      return;
    }
    setServerError(null);
    save.mutate({ patch, version: base.version });
  };
  const reapply = () => {
    if (!conflict) return;
    const { latest, patch } = conflict;
    setBase(latest);
    setDraft(pretty(applyPatch(section(latest, "desired"), patch)));
    save.mutate({ patch, version: latest.version });
  };
  const discard = () => {
    if (!conflict) return;
    setBase(conflict.latest);
    setDraft(pretty(section(conflict.latest, "desired")));
    setConflict(null);
  };

  return (
    <Paper withBorder p="sm">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Stack gap="sm">
          <Group justify="space-between" wrap="wrap">
            <Title order={4}>Edit desired state</Title>
            <Text size="sm" c="dimmed">
              editing version {base.version}
              {edited && twin.version !== base.version ? ` (the twin is now at ${twin.version})` : ""}
            </Text>
          </Group>
          <Textarea
            label="Desired state (JSON)"
            description="The whole desired section; keys you remove are deleted, the rest is merged."
            value={draft}
            onChange={(e) => {
              setDraft(e.currentTarget.value);
              setServerError(null);
            }}
            error={parsed.error ?? serverError}
            autosize
            minRows={6}
            maxRows={24}
            spellCheck={false}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          />
          {conflict && (
            <TwinConflict base={snapshot(base)} latest={snapshot(conflict.latest)} mine={parsed.value ?? section(base, "desired")} onReapply={reapply} onDiscard={discard} busy={save.isPending} />
          )}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" disabled={!edited || save.isPending} onClick={() => setDraft(pretty(section(base, "desired")))}>
              Undo edits
            </Button>
            <Button type="submit" disabled={!!parsed.error || !!conflict} loading={save.isPending}>
              Save desired
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function TwinHistory({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const paged = usePagedQuery(
    ["devices", "twin-history", deviceId],
    async (cursor) => {
      const page = await unwrap(
        api.GET("/api/v1/devices/{device_id}/twin/history", { params: { path: { device_id: deviceId }, query: { limit: 20, before_version: cursor ? Number(cursor) : undefined } } }),
      );
      return { items: page.items, next_cursor: page.next_before_version ? String(page.next_before_version) : null };
    },
    { refetchInterval: LIVE_REFRESH_MS },
  );
  return (
    <Stack gap="xs">
      <Title order={4}>History</Title>
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No twin changes yet" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>At</Table.Th>
                  <Table.Th>Source</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>Change</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((r) => (
                  <Table.Tr key={r.version}>
                    <Table.Td>{r.version}</Table.Td>
                    <Table.Td>{formatTime(r.at)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light">{r.source}</Badge>
                    </Table.Td>
                    <Table.Td>{r.actor}</Table.Td>
                    <Table.Td>
                      <Code style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>{JSON.stringify(r.request.state ?? r.request)}</Code>
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

export function DeviceTwin({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const twin = useQuery({
    queryKey: ["devices", "twin", deviceId],
    queryFn: () => unwrap(api.GET("/api/v1/devices/{device_id}/twin", { params: { path: { device_id: deviceId } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  return (
    <QueryState query={twin}>
      {(current) => (
        <Stack>
          <Group gap="xs">
            <Text size="sm">
              Current version <strong data-testid="twin-version">{current.version}</strong>
            </Text>
            <Text size="sm" c="dimmed">
              updated {current.timestamp ? formatTime(new Date(current.timestamp * 1000).toISOString()) : "—"}
            </Text>
          </Group>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <JsonSection title="Reported" value={section(current, "reported")} testId="twin-reported" />
            <JsonSection title="Desired" value={section(current, "desired")} testId="twin-desired" />
            <JsonSection title="Delta (desired, not yet reported)" value={section(current, "delta")} testId="twin-delta" />
          </SimpleGrid>
          <WriteOnly>
            <TwinEditor deviceId={deviceId} twin={current} />
          </WriteOnly>
          <TwinHistory deviceId={deviceId} />
        </Stack>
      )}
    </QueryState>
  );
}
