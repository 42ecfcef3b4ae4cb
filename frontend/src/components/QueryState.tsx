import { Alert, Button, Center, Group, Loader, Stack, Text } from "@mantine/core";
import { IconAlertTriangle, IconInbox } from "@tabler/icons-react";
import type { ReactNode } from "react";

import { ApiError, errorMessage } from "../api/errors";

/** Problem body as the user sees it: title, detail and the request id to quote. */
export function ProblemAlert({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const problem = error instanceof ApiError ? error.problem : undefined;
  return (
    <Alert color="red" icon={<IconAlertTriangle size={18} />} title={title ?? problem?.title ?? "Something went wrong"} role="alert">
      <Stack gap={4}>
        <Text size="sm">{errorMessage(error)}</Text>
        {problem?.request_id && (
          <Text size="xs" c="dimmed">
            request id {problem.request_id}
          </Text>
        )}
        {onRetry && (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              Retry
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Center py="xl" data-testid="empty-state">
      <Stack align="center" gap={4}>
        <IconInbox size={32} stroke={1.5} color="var(--mantine-color-dimmed)" />
        <Text fw={500}>{title}</Text>
        {children && (
          <Text size="sm" c="dimmed" ta="center">
            {children}
          </Text>
        )}
      </Stack>
    </Center>
  );
}

interface QueryLike<T> {
  data: T | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

/** Loading, error and empty states for one query, the same on every page. */
export function QueryState<T>({
  query,
  isEmpty,
  empty,
  children,
}: {
  query: QueryLike<T>;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) {
    return (
      <Center py="xl">
        <Loader size="sm" aria-label="Loading" />
      </Center>
    );
  }
  if (query.isError || query.data === undefined) {
    return <ProblemAlert error={query.error} onRetry={() => void query.refetch()} />;
  }
  if (isEmpty?.(query.data)) return <>{empty ?? <EmptyState title="Nothing here yet" />}</>;
  return <>{children(query.data)}</>;
}
