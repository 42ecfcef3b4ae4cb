import { Anchor, Badge, Box, Code, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

import { formatTime } from "../../components/format";
import { formatValue, seconds, type AlertDetail } from "./model";

/** One node of the condition tree as evaluated when the alert fired (pulse.alerts.explain.explanation_tree). */
export interface ExplainNode {
  kind: string;
  result: boolean | null;
  summary: string;
  observed?: unknown;
  children?: ExplainNode[];
}

const KIND_LABELS: Record<string, string> = {
  all: "ALL of",
  any: "ANY of",
  not: "NOT",
  for: "FOR",
  keep_firing_for: "KEEP FIRING FOR",
  repeat: "REPEAT",
  threshold: "Threshold",
  window: "Window",
  absence: "Absence",
  anomaly: "Anomaly",
  twin: "Twin",
  twin_not_converged: "Twin not converged",
};

/** What the node's observed value means: seconds silent for absence, a z-score for anomaly, a count for repeat. */
function observedText(node: ExplainNode): string | null {
  if (node.observed === null || node.observed === undefined) return null;
  if (node.kind === "absence" && typeof node.observed === "number") return `silent for ${seconds(node.observed)}`;
  if (node.kind === "anomaly") return `z = ${formatValue(node.observed)}`;
  if (node.kind === "repeat") return `became true ${formatValue(node.observed)} times`;
  if (node.kind === "twin_not_converged") return `overdue: ${String(node.observed)}`;
  return `observed ${formatValue(node.observed)}`;
}

function ResultBadge({ result }: { result: boolean | null }) {
  if (result === true) return <Badge color="red" variant="filled" size="sm">true</Badge>;
  if (result === false) return <Badge color="green" variant="light" size="sm">false</Badge>;
  return <Badge color="gray" variant="light" size="sm">unknown</Badge>;
}

function isNode(value: unknown): value is ExplainNode {
  return !!value && typeof value === "object" && typeof (value as ExplainNode).kind === "string";
}

export function ConditionTree({ node, depth = 0 }: { node: ExplainNode; depth?: number }) {
  const observed = observedText(node);
  const composite = (node.children ?? []).length > 0;
  return (
    <Box role="treeitem" aria-expanded={composite || undefined} aria-label={`${node.kind}: ${node.summary}`}>
      <Group gap="xs" wrap="wrap" py={4}>
        <ResultBadge result={node.result} />
        <Text size="sm" fw={600}>
          {KIND_LABELS[node.kind] ?? node.kind}
        </Text>
        {node.summary && node.summary !== node.kind && (
          <Text size="sm" ff="monospace">
            {node.summary}
          </Text>
        )}
        {observed && (
          <Text size="sm" c="dimmed">
            ({observed})
          </Text>
        )}
      </Group>
      {composite && (
        <Box role="group" ml="md" pl="sm" style={{ borderLeft: "2px solid var(--mantine-color-gray-4)" }}>
          {node.children!.map((child, i) => (
            <ConditionTree key={i} node={child} depth={depth + 1} />
          ))}
        </Box>
      )}
    </Box>
  );
}

function Json({ value }: { value: unknown }) {
  return (
    <Code block style={{ maxHeight: 320, overflow: "auto" }}>
      {JSON.stringify(value, null, 2)}
    </Code>
  );
}

/** The explanation captured when the alert fired: the rule version, the condition tree with the values it
 * compared, and the twin and connectivity at that moment. Alerts not raised by a rule (e.g. on-call coverage)
 * carry their own explanation, shown as recorded. */
export function AlertExplain({ alert }: { alert: AlertDetail }) {
  const ex = (alert.explanation ?? {}) as Record<string, unknown>;
  const rule = ex.rule as { id?: string; version?: number; name?: string; latch?: boolean } | undefined;
  const condition = isNode(ex.condition) ? ex.condition : null;
  const twin = ex.twin as { version?: number; document?: unknown } | null | undefined;
  const conn = ex.connectivity as { last_seen_at?: string | null; heartbeat_interval_s?: number | null; silent_for_s?: number | null } | undefined;
  const known = new Set(["rule", "fired_at", "condition", "twin", "connectivity"]);
  const rest = Object.fromEntries(Object.entries(ex).filter(([k]) => !known.has(k)));

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="alert-explain-heading">
      <Title order={3} id="alert-explain-heading" mb="xs">
        Why it fired
      </Title>
      <Stack gap="md">
        {rule && (
          <Text size="sm">
            Rule{" "}
            <Anchor component={Link} to={`/rules/${rule.id}`}>
              {rule.name ?? rule.id}
            </Anchor>{" "}
            version {rule.version}
            {rule.latch ? " (latching)" : ""}
            {typeof ex.fired_at === "string" ? `, fired at ${formatTime(ex.fired_at)}` : ""}
          </Text>
        )}
        {condition ? (
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Condition at firing time
            </Text>
            <div role="tree" aria-label="Condition at firing time">
              <ConditionTree node={condition} />
            </div>
          </Stack>
        ) : (
          Object.keys(ex).length === 0 && <Text size="sm" c="dimmed">This alert carries no explanation.</Text>
        )}
        {(twin !== undefined || conn) && (
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                Twin snapshot{twin?.version !== undefined ? ` (version ${twin.version})` : ""}
              </Text>
              {twin ? <Json value={twin.document} /> : <Text size="sm" c="dimmed">The device had no twin when the alert fired.</Text>}
            </Stack>
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                Connectivity snapshot
              </Text>
              {conn ? (
                <Stack gap={2}>
                  <Text size="sm">Last seen: {formatTime(conn.last_seen_at ?? null)}</Text>
                  <Text size="sm">Silent for: {seconds(conn.silent_for_s)}</Text>
                  <Text size="sm">Heartbeat interval: {seconds(conn.heartbeat_interval_s)}</Text>
                </Stack>
              ) : (
                <Text size="sm" c="dimmed">Not recorded.</Text>
              )}
            </Stack>
          </SimpleGrid>
        )}
        {Object.keys(rest).length > 0 && (
          <Stack gap={4}>
            {typeof rest.summary === "string" && <Text size="sm">{rest.summary}</Text>}
            <Json value={rest} />
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
