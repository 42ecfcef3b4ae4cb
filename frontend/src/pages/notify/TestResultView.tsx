import { Alert, Code, Group, Stack, Text } from "@mantine/core";

import { StatusBadge } from "../../components/badges";
import type { TestResult } from "./shared";

const EXPLAIN: Record<TestResult["status"], string> = {
  delivered: "The receiver accepted the test notification.",
  retryable: "The receiver refused for now (a real notification would be retried).",
  permanent: "The receiver refused for good (a real notification would go to the dead letters).",
};

/** What a send-test answered: the receiver's verdict, response code, latency and error. */
export function TestResultView({ result, target }: { result: TestResult; target: string }) {
  const ok = result.status === "delivered";
  return (
    <Alert color={ok ? "green" : "red"} title={`Test of ${target}: ${result.status}`} data-testid="test-result">
      <Stack gap={4}>
        <Text size="sm">{EXPLAIN[result.status]}</Text>
        <Group gap="lg" wrap="wrap">
          <Group gap={4}>
            <Text size="sm">Status</Text>
            <StatusBadge status={result.status} />
          </Group>
          <Text size="sm">Response code: {result.response_code ?? "—"}</Text>
          <Text size="sm">Latency: {result.latency_ms === null ? "—" : `${result.latency_ms} ms`}</Text>
        </Group>
        {result.error && (
          <Text size="sm" c="red">
            Error: {result.error}
          </Text>
        )}
        <Text size="xs" c="dimmed">
          Delivery <Code>{result.delivery_id}</Code> (in the delivery log)
        </Text>
      </Stack>
    </Alert>
  );
}
