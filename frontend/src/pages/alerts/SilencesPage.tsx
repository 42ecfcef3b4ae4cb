import { Badge, Button, Group, Modal, Paper, Switch, Table, Text, Title } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { showWriteError } from "../../components/forms";
import { formatTime, timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import type { MaintenanceWindow, Silence } from "./model";
import { MaintenanceForm, SilenceForm } from "./SuppressionForms";

function phase(starts: string, ends: string): "active" | "scheduled" | "ended" {
  const now = Date.now();
  if (new Date(ends).getTime() <= now) return "ended";
  return new Date(starts).getTime() > now ? "scheduled" : "active";
}

function PhaseBadge({ starts, ends }: { starts: string; ends: string }) {
  const p = phase(starts, ends);
  return (
    <Badge variant="light" color={p === "active" ? "grape" : p === "scheduled" ? "blue" : "gray"}>
      {p}
    </Badge>
  );
}

function matchers(s: Silence): string {
  const parts = [
    s.device_id && `device ${s.device_id}`,
    s.site_id && `site ${s.site_id}`,
    s.rule_id && `rule ${s.rule_id}`,
    s.severities.length > 0 && `severity ${s.severities.join("/")}`,
    ...Object.entries(s.tags).map(([k, v]) => `tag ${k}=${v}`),
  ].filter(Boolean);
  return parts.join(" · ");
}

function Section({ id, title, description, action, children }: { id: string; title: string; description: string; action: React.ReactNode; children: React.ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id} mb="md">
      <Group justify="space-between" align="flex-start" mb="sm" wrap="wrap">
        <div>
          <Title order={3} id={id}>
            {title}
          </Title>
          <Text size="sm" c="dimmed">
            {description}
          </Text>
        </div>
        {action}
      </Group>
      {children}
    </Paper>
  );
}

function Silences({ active }: { active: boolean }) {
  const api = useApi();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const paged = usePagedQuery(["silences", { active }], (cursor) => unwrap(api.GET("/api/v1/silences", { params: { query: { active, cursor, limit: 50 } } })), {
    refetchInterval: LIVE_REFRESH_MS,
  });
  const expire = useMutation({
    mutationFn: (s: Silence) => unwrap(api.DELETE("/api/v1/silences/{silence_id}", { params: { path: { silence_id: s.id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["silences"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmExpire = (s: Silence) =>
    modals.openConfirmModal({
      title: "Expire this silence now?",
      children: `Alerts matching ${matchers(s)} notify again from now on. The silence stays listed as ended.`,
      labels: { confirm: "Expire", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => expire.mutate(s),
    });
  return (
    <Section
      id="silences-heading"
      title="Silences"
      description="Matching alerts still open, but nobody is notified until the silence ends."
      action={
        <WriteOnly>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            New silence
          </Button>
        </WriteOnly>
      }
    >
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title={active ? "No active silences" : "No silences"} />}>
        {(page) => (
          <Table.ScrollContainer minWidth={760}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Matches</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Starts</Table.Th>
                  <Table.Th>Ends</Table.Th>
                  <Table.Th>Comment</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>{matchers(s)}</Table.Td>
                    <Table.Td>
                      <PhaseBadge starts={s.starts_at} ends={s.ends_at} />
                    </Table.Td>
                    <Table.Td>{formatTime(s.starts_at)}</Table.Td>
                    <Table.Td title={formatTime(s.ends_at)}>{phase(s.starts_at, s.ends_at) === "ended" ? formatTime(s.ends_at) : `${formatTime(s.ends_at)} (${timeAgo(s.ends_at)})`}</Table.Td>
                    <Table.Td>{s.reason || "—"}</Table.Td>
                    <Table.Td>{s.created_by}</Table.Td>
                    <Table.Td>
                      {phase(s.starts_at, s.ends_at) !== "ended" && (
                        <WriteOnly>
                          <Button size="xs" variant="subtle" color="red" aria-label={`Expire silence ${matchers(s)}`} onClick={() => confirmExpire(s)}>
                            Expire
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
      <Modal opened={creating} onClose={() => setCreating(false)} title="New silence" size="lg">
        {creating && <SilenceForm onClose={() => setCreating(false)} />}
      </Modal>
    </Section>
  );
}

function Maintenance({ active }: { active: boolean }) {
  const api = useApi();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const paged = usePagedQuery(["maintenance", { active }], (cursor) => unwrap(api.GET("/api/v1/maintenance", { params: { query: { active, cursor, limit: 50 } } })), {
    refetchInterval: LIVE_REFRESH_MS,
  });
  const end = useMutation({
    mutationFn: (w: MaintenanceWindow) => unwrap(api.POST("/api/v1/maintenance/{window_id}/end", { params: { path: { window_id: w.id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["maintenance"] }),
    onError: (error) => showWriteError(error),
  });
  const target = (w: MaintenanceWindow) => (w.device_id ? `device ${w.device_id}` : `site ${w.site_id}`);
  const confirmEnd = (w: MaintenanceWindow) =>
    modals.openConfirmModal({
      title: `End maintenance of ${target(w)}?`,
      children: "Rules open alerts for it again from now on.",
      labels: { confirm: "End now", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => end.mutate(w),
    });
  return (
    <Section
      id="maintenance-heading"
      title="Maintenance windows"
      description="A device or a whole site opens no alerts at all while its window lasts."
      action={
        <WriteOnly>
          <Button leftSection={<IconPlus size={16} />} variant="light" onClick={() => setCreating(true)}>
            New maintenance window
          </Button>
        </WriteOnly>
      }
    >
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title={active ? "No active maintenance" : "No maintenance windows"} />}>
        {(page) => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>For</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Starts</Table.Th>
                  <Table.Th>Ends</Table.Th>
                  <Table.Th>Reason</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((w) => (
                  <Table.Tr key={w.id}>
                    <Table.Td>{target(w)}</Table.Td>
                    <Table.Td>
                      <PhaseBadge starts={w.starts_at} ends={w.ends_at} />
                    </Table.Td>
                    <Table.Td>{formatTime(w.starts_at)}</Table.Td>
                    <Table.Td>{formatTime(w.ends_at)}</Table.Td>
                    <Table.Td>{w.reason || "—"}</Table.Td>
                    <Table.Td>
                      {w.created_by}
                      {w.ended_by ? ` (ended by ${w.ended_by})` : ""}
                    </Table.Td>
                    <Table.Td>
                      {phase(w.starts_at, w.ends_at) !== "ended" && (
                        <WriteOnly>
                          <Button size="xs" variant="subtle" color="red" aria-label={`End maintenance of ${target(w)}`} onClick={() => confirmEnd(w)}>
                            End
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
      <Modal opened={creating} onClose={() => setCreating(false)} title="New maintenance window" size="lg">
        {creating && <MaintenanceForm onClose={() => setCreating(false)} />}
      </Modal>
    </Section>
  );
}

export function SilencesPage() {
  const [params, setParams] = useSearchParams();
  const all = params.get("all") === "true";
  return (
    <>
      <PageHeader
        title="Silences"
        description="Quiet notifications for known issues, or stop alerts entirely during maintenance."
        actions={<Switch label="Include ended" checked={all} onChange={(e) => setParams(e.currentTarget.checked ? { all: "true" } : {}, { replace: true })} />}
      />
      <Silences active={!all} />
      <Maintenance active={!all} />
    </>
  );
}
