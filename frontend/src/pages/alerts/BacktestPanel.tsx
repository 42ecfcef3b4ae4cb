import { Alert, Button, Group, List, Paper, SimpleGrid, Stack, Table, TagsInput, Text, TextInput, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { memo, useState } from "react";

import { unwrap } from "../../api/client";
import { ApiError, type FieldError } from "../../api/errors";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { Chart } from "../../components/Chart";
import { formatNumber, formatTime } from "../../components/format";
import { ProblemAlert } from "../../components/QueryState";
import { isoToLocal, localToIso } from "./model";
import type { RuleVersionDraft } from "./ruleForm";

type Result = components["schemas"]["BacktestResult"];

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <Paper withBorder p="xs">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="lg">
        {formatNumber(value)}
      </Text>
    </Paper>
  );
}

function BacktestResultView({ result }: { result: Result }) {
  const option = {
    tooltip: { trigger: "axis" as const },
    legend: { data: ["Opened", "Resolved"] },
    xAxis: { type: "category" as const, data: result.per_day.map((d) => d.day) },
    yAxis: { type: "value" as const, minInterval: 1 },
    series: [
      { name: "Opened", type: "bar" as const, data: result.per_day.map((d) => d.opened), itemStyle: { color: "#fa5252" } },
      { name: "Resolved", type: "bar" as const, data: result.per_day.map((d) => d.resolved), itemStyle: { color: "#40c057" } },
    ],
  };
  const devices = [...result.per_device].sort((a, b) => b.opened - a.opened);
  return (
    <Stack gap="sm" aria-label="Backtest result">
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Stat label="Alerts opened" value={result.opened} />
        <Stat label="Alerts resolved" value={result.resolved} />
        <Stat label="Devices" value={result.devices} />
        <Stat label="Samples replayed" value={result.points} />
      </SimpleGrid>
      <Chart label="Alerts the rule would have opened and resolved per day" option={option} height={240} />
      {result.alerts_truncated && <Text size="sm" c="dimmed">Only the first alerts are listed; the counts cover all of them.</Text>}
      <Table.ScrollContainer minWidth={520}>
        <Table striped aria-label="Per device">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Device</Table.Th>
              <Table.Th>Samples</Table.Th>
              <Table.Th>Opened</Table.Th>
              <Table.Th>Resolved</Table.Th>
              <Table.Th>Suppressed</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {devices.map((d) => (
              <Table.Tr key={d.device_id}>
                <Table.Td>{d.device_id}</Table.Td>
                <Table.Td>{formatNumber(d.samples)}</Table.Td>
                <Table.Td>{d.opened}</Table.Td>
                <Table.Td>{d.resolved}</Table.Td>
                <Table.Td>{d.suppressed}</Table.Td>
              </Table.Tr>
            ))}
            {devices.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={5}>No device in the rule's scope had telemetry in this range.</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {result.alerts.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table aria-label="Alerts it would have opened">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Device</Table.Th>
                <Table.Th>Opened</Table.Th>
                <Table.Th>Because</Table.Th>
                <Table.Th>Resolved</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {result.alerts.slice(0, 100).map((a, i) => (
                <Table.Tr key={`${a.device_id}-${a.opened_at}-${i}`}>
                  <Table.Td>{a.device_id}</Table.Td>
                  <Table.Td>{formatTime(a.opened_at)}</Table.Td>
                  <Table.Td>{a.opened_because}</Table.Td>
                  <Table.Td>{a.resolved_at ? `${formatTime(a.resolved_at)}${a.resolved_because ? ` — ${a.resolved_because}` : ""}` : "still open"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

/** POST /rules:backtest: what the draft (not saved) would have opened over a range of stored telemetry. */
export const BacktestPanel = memo(function BacktestPanel({ draft, placeRuleErrors }: { draft: () => RuleVersionDraft; placeRuleErrors: (errors: FieldError[]) => FieldError[] }) {
  const api = useApi();
  const now = new Date();
  const [start, setStart] = useState(isoToLocal(new Date(now.getTime() - 7 * 86400_000)));
  const [end, setEnd] = useState(isoToLocal(now));
  const [devices, setDevices] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [unmatched, setUnmatched] = useState<FieldError[]>([]);
  const run = useMutation({
    mutationFn: () => {
      const from = localToIso(start);
      const to = localToIso(end);
      if (!from || !to) throw new ApiError(422, { title: "Invalid range", detail: "choose a start and an end", errors: [...(!from ? [{ field: "start", message: "choose a start" }] : []), ...(!to ? [{ field: "end", message: "choose an end" }] : [])] });
      return unwrap(api.POST("/api/v1/rules:backtest", { body: { rule: draft(), start: from, end: to, device_ids: devices } }));
    },
    onMutate: () => {
      setErrors({});
      setUnmatched([]);
    },
    onError: (error) => {
      if (!(error instanceof ApiError) || error.fieldErrors.length === 0) return;
      const own: Record<string, string> = {};
      const rest: FieldError[] = [];
      for (const e of error.fieldErrors) {
        const key = ["start", "end", "device_ids"].find((k) => e.field === k || e.field.startsWith(`${k}.`));
        if (key) own[key] = e.message;
        else rest.push(e);
      }
      setErrors(own);
      setUnmatched(placeRuleErrors(rest));
    },
  });
  const fieldError = run.error instanceof ApiError && run.error.fieldErrors.length > 0;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="backtest-heading">
      <Title order={3} id="backtest-heading" mb={4}>
        Backtest
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Replays stored telemetry through the rule as it is in the form (nothing is saved) to show what it would have opened.
      </Text>
      <Group align="flex-start" wrap="wrap" gap="sm">
        <TextInput type="datetime-local" label="From" value={start} onChange={(e) => setStart(e.currentTarget.value)} error={errors.start} />
        <TextInput type="datetime-local" label="To" value={end} onChange={(e) => setEnd(e.currentTarget.value)} error={errors.end} />
        <TagsInput label="Only these devices" placeholder="all in scope" value={devices} onChange={setDevices} error={errors.device_ids} w={260} />
        <Button mt={25} onClick={() => run.mutate()} loading={run.isPending}>
          Run backtest
        </Button>
      </Group>
      <Stack mt="md">
        {run.isError && !fieldError && <ProblemAlert error={run.error} title="The backtest failed" />}
        {fieldError && (
          <Alert color="red" title="The backtest was refused" role="alert">
            {unmatched.length > 0 ? (
              <List size="sm">
                {unmatched.map((e, i) => (
                  <List.Item key={i}>
                    {e.field}: {e.message}
                  </List.Item>
                ))}
              </List>
            ) : (
              <Text size="sm">Fix the fields marked in red.</Text>
            )}
          </Alert>
        )}
        {run.data && <BacktestResultView result={run.data} />}
      </Stack>
    </Paper>
  );
});
