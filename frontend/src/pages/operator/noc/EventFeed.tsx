import { Badge, Card, Group, ScrollArea, Stack, Text } from "@mantine/core";
import dayjs from "dayjs";
import { useEffect, useRef, useState } from "react";

import { unwrap, type ApiClient } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { SeverityBadge } from "../../../components/badges";
import { ProblemAlert } from "../../../components/QueryState";

type FeedEvent = components["schemas"]["FeedEvent"];

export const FEED_POLL_MS = 3000;
export const FEED_KEEP = 200;

const KIND_COLOR: Record<string, string> = { alert: "orange", presence: "blue", quarantine: "grape", dead_letter: "red" };
const KIND_LABEL: Record<string, string> = { alert: "alert", presence: "presence", quarantine: "quarantine", dead_letter: "dead letter" };

/** Newest first, no duplicates, at most `keep` events. */
export function mergeEvents(incoming: FeedEvent[], current: FeedEvent[], keep = FEED_KEEP): FeedEvent[] {
  const seen = new Set<string>();
  const out: FeedEvent[] = [];
  for (const e of [...incoming, ...current]) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
    if (out.length >= keep) break;
  }
  return out;
}

/**
 * Polls /noc/events: the first answer is the newest events and a cursor; every later poll passes
 * `after=<cursor>` and prepends what is new. `has_more` means a backlog is waiting: poll again at once.
 */
export function useEventFeed(api: ApiClient, tenantId: string | null, intervalMs = FEED_POLL_MS) {
  const [events, setEvents] = useState<FeedEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const cursor = useRef<string | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    cursor.current = undefined;
    setEvents([]);
    setLoaded(false);
    const poll = async () => {
      let delay = intervalMs;
      try {
        const page = await unwrap(
          api.GET("/api/v1/noc/events", { params: { query: { after: cursor.current, limit: 100, tenant_id: tenantId ?? undefined } } }),
        );
        if (stopped) return;
        cursor.current = page.cursor;
        if (page.items.length > 0) setEvents((current) => mergeEvents(page.items, current));
        setError(null);
        setLoaded(true);
        if (page.has_more) delay = 0;
      } catch (e) {
        if (stopped) return;
        setError(e);
      }
      timer = setTimeout(() => void poll(), delay);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, tenantId, intervalMs]);

  return { events, error, loaded };
}

function FeedRow({ event, tv }: { event: FeedEvent; tv: boolean }) {
  return (
    <Stack gap={2} py={6} style={{ borderBottom: "1px solid var(--mantine-color-gray-2)" }} data-testid="feed-event">
      <Group gap={6} wrap="wrap">
        <Text size={tv ? "md" : "xs"} ff="monospace" c="dimmed" title={event.at}>
          {dayjs(event.at).format("HH:mm:ss")}
        </Text>
        <Badge size="sm" variant="light" color={KIND_COLOR[event.kind] ?? "gray"}>
          {KIND_LABEL[event.kind] ?? event.kind}
        </Badge>
        {event.severity && <SeverityBadge severity={event.severity} />}
        <Text size={tv ? "md" : "sm"} fw={600}>
          {event.event}
        </Text>
      </Group>
      <Text size={tv ? "md" : "sm"} lineClamp={2}>
        {event.summary}
      </Text>
      <Text size="xs" c="dimmed">
        {event.tenant_id ?? "no tenant"}
        {event.device_id ? ` · ${event.device_id}` : ""}
      </Text>
    </Stack>
  );
}

export function EventFeed({ tenantId, tv, intervalMs }: { tenantId: string | null; tv: boolean; intervalMs?: number }) {
  const api = useApi();
  const { events, error, loaded } = useEventFeed(api, tenantId, intervalMs);
  return (
    <Card withBorder padding="sm" h="100%">
      <Group justify="space-between" mb="xs">
        <Text fw={600}>Live events</Text>
        <Text size="xs" c="dimmed">
          {events.length} shown (last {FEED_KEEP} kept)
        </Text>
      </Group>
      {error !== null && <ProblemAlert error={error} title="The event feed could not be refreshed" />}
      <ScrollArea h={tv ? 560 : 420} type="auto">
        <div role="log" aria-label="Live events" aria-live="polite">
          {events.map((e) => (
            <FeedRow key={e.id} event={e} tv={tv} />
          ))}
          {loaded && events.length === 0 && (
            <Text size="sm" c="dimmed" py="md" ta="center">
              No events yet: new alerts, presence changes, quarantined messages and dead letters appear here.
            </Text>
          )}
        </div>
      </ScrollArea>
    </Card>
  );
}
