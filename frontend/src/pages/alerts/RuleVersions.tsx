import { Badge, Button, Code, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { memo, useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { SeverityBadge } from "../../components/badges";
import { formatTime } from "../../components/format";
import { Pager, usePagedQuery } from "../../components/paging";
import { QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { ConditionBuilder } from "./ConditionBuilder";
import { fromApi } from "./conditions";
import type { RuleDoc } from "./ruleForm";

type Version = components["schemas"]["RuleVersionView"];

const NO_ERRORS = { errors: {}, clearError: () => undefined, metrics: [], readOnly: true };

function scopeText(rule: RuleDoc): string {
  const s = rule.scope;
  const parts = [
    s.device_ids?.length ? `devices ${s.device_ids.join(", ")}` : "",
    s.site_ids?.length ? `sites ${s.site_ids.join(", ")}` : "",
    s.models?.length ? `models ${s.models.join(", ")}` : "",
    Object.keys(s.tags ?? {}).length ? `tags ${Object.entries(s.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")}` : "",
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : "every device";
}

/** One old version, read only: GET /rules/{id}/versions/{version}. */
function VersionView({ ruleId, version, current, onLoad }: { ruleId: string; version: number; current: number; onLoad: (rule: RuleDoc) => void }) {
  const api = useApi();
  const query = useQuery({
    queryKey: ["rule", ruleId, "version", version],
    queryFn: () => unwrap(api.GET("/api/v1/rules/{rule_id}/versions/{version}", { params: { path: { rule_id: ruleId, version } } })),
  });
  return (
    <QueryState query={query}>
      {(v) => (
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Text size="sm">
              <b>Name:</b> {v.rule.name}
            </Text>
            <Group gap={4}>
              <Text size="sm" fw={700}>
                Severity:
              </Text>
              <SeverityBadge severity={v.rule.severity} />
            </Group>
            <Text size="sm">
              <b>Saved:</b> {formatTime(v.created_at)} by {v.created_by}
            </Text>
            <Text size="sm">
              <b>Scope:</b> {scopeText(v.rule)}
            </Text>
            <Text size="sm">
              <b>Latch:</b> {v.rule.latch ? "yes" : "no"} · <b>Enabled:</b> {v.rule.enabled === false ? "no" : "yes"}
            </Text>
            {v.rule.schedule && (
              <Text size="sm">
                <b>Schedule:</b> {v.rule.schedule.weekdays.join(", ")} {v.rule.schedule.start}–{v.rule.schedule.end} {v.rule.schedule.timezone ?? "(site time zone)"}
              </Text>
            )}
          </SimpleGrid>
          {v.rule.description && <Text size="sm">{v.rule.description}</Text>}
          <Text size="sm" fw={500}>
            Condition
          </Text>
          <ConditionBuilder node={fromApi(v.rule.condition)} path="condition" onChange={() => undefined} ctx={NO_ERRORS} label="Condition" />
          {v.rule.clear && (
            <>
              <Text size="sm" fw={500}>
                Clear condition
              </Text>
              <ConditionBuilder node={fromApi(v.rule.clear)} path="clear" onChange={() => undefined} ctx={NO_ERRORS} label="Clear" />
            </>
          )}
          <details>
            <summary>
              <Text span size="sm">
                Document (JSON)
              </Text>
            </summary>
            <Code block>{JSON.stringify(v.rule, null, 2)}</Code>
          </details>
          {version !== current && (
            <WriteOnly>
              <Group justify="flex-end">
                <Button variant="light" onClick={() => onLoad(v.rule)}>
                  Load into the editor
                </Button>
              </Group>
            </WriteOnly>
          )}
        </Stack>
      )}
    </QueryState>
  );
}

/** GET /rules/{id}/versions (newest first) with a read-only view of any of them. */
export const RuleVersions = memo(function RuleVersions({ ruleId, current, onLoad }: { ruleId: string; current: number; onLoad: (rule: RuleDoc) => void }) {
  const api = useApi();
  const [viewing, setViewing] = useState<number | null>(null);
  const paged = usePagedQuery(["rule", ruleId, "versions"], (cursor) =>
    unwrap(api.GET("/api/v1/rules/{rule_id}/versions", { params: { path: { rule_id: ruleId }, query: { cursor, limit: 20 } } })),
  );
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="rule-versions-heading">
      <Title order={3} id="rule-versions-heading" mb="sm">
        Version history
      </Title>
      <QueryState query={paged.query}>
        {(page) => (
          <Table.ScrollContainer minWidth={520}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Saved</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((v: Version) => (
                  <Table.Tr key={v.version}>
                    <Table.Td>
                      v{v.version}{" "}
                      {v.version === current && (
                        <Badge size="xs" variant="light">
                          current
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{formatTime(v.created_at)}</Table.Td>
                    <Table.Td>{v.created_by}</Table.Td>
                    <Table.Td>{v.rule.name}</Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="default" onClick={() => setViewing(v.version)} aria-label={`View version ${v.version}`}>
                        View
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      <Modal opened={viewing !== null} onClose={() => setViewing(null)} title={`Version ${viewing ?? ""}`} size="xl">
        {viewing !== null && (
          <VersionView
            ruleId={ruleId}
            version={viewing}
            current={current}
            onLoad={(rule) => {
              onLoad(rule);
              setViewing(null);
            }}
          />
        )}
      </Modal>
    </Paper>
  );
});
