import { Button, Group, Text } from "@mantine/core";
import { keepPreviousData, useQuery, type QueryKey } from "@tanstack/react-query";
import { useEffect, useState } from "react";

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** Keyset pages: the API hands out an opaque next_cursor; the client keeps the trail for "previous". */
export function usePagedQuery<T>(
  key: QueryKey,
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  options: { refetchInterval?: number; enabled?: boolean } = {},
) {
  const [trail, setTrail] = useState<(string | undefined)[]>([undefined]);
  const keyString = JSON.stringify(key);
  useEffect(() => setTrail([undefined]), [keyString]);
  const cursor = trail[trail.length - 1];
  const query = useQuery({
    queryKey: [...key, "page", cursor ?? null],
    queryFn: () => fetchPage(cursor),
    placeholderData: keepPreviousData,
    refetchInterval: options.refetchInterval,
    enabled: options.enabled,
  });
  return {
    query,
    pageNumber: trail.length,
    hasPrevious: trail.length > 1,
    hasNext: !!query.data?.next_cursor,
    next: () => query.data?.next_cursor && setTrail((t) => [...t, query.data!.next_cursor!]),
    previous: () => setTrail((t) => (t.length > 1 ? t.slice(0, -1) : t)),
    reset: () => setTrail([undefined]),
  };
}

export function Pager({ paged }: { paged: ReturnType<typeof usePagedQuery<unknown>> | { pageNumber: number; hasPrevious: boolean; hasNext: boolean; next: () => unknown; previous: () => unknown } }) {
  if (!paged.hasPrevious && !paged.hasNext) return null;
  return (
    <Group justify="flex-end" mt="sm" gap="xs">
      <Button variant="default" size="xs" disabled={!paged.hasPrevious} onClick={() => paged.previous()}>
        Previous
      </Button>
      <Text size="sm" c="dimmed" aria-label="page number">
        Page {paged.pageNumber}
      </Text>
      <Button variant="default" size="xs" disabled={!paged.hasNext} onClick={() => paged.next()}>
        Next
      </Button>
    </Group>
  );
}
