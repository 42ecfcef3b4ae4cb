import { Box, Button, Group, SegmentedControl, Stack, Text } from "@mantine/core";
import { IconChevronLeft, IconChevronRight } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { QueryState } from "../../../components/QueryState";
import { dayjs, formatIn, type Schedule } from "../shared";
import type { Range } from "./time";

type Segment = components["schemas"]["Segment"];

const PALETTE = ["blue", "teal", "grape", "orange", "cyan", "lime", "pink", "indigo", "violet", "green", "yellow"];

function colorOf(username: string): string {
  let h = 0;
  for (const ch of username) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

interface Lane {
  key: string;
  label: string;
  segments: Segment[];
  showGaps: boolean;
}

/** One lane: the range as a bar, each segment placed by its share of the range. */
function LaneRow({ lane, range, tz, label, now }: { lane: Lane; range: Range; tz: string; label: (u: string | null) => string; now: number }) {
  const start = range.dayStarts[0].at;
  const span = range.dayStarts[range.days].at - start;
  const pct = (t: number) => `${(Math.min(Math.max(t - start, 0), span) / span) * 100}%`;
  return (
    <Group gap={0} wrap="nowrap" align="stretch" data-testid={`lane-${lane.key}`}>
      <Text size="xs" fw={500} w={120} py={6} pr="xs" style={{ flexShrink: 0 }} truncate="end" title={lane.label}>
        {lane.label}
      </Text>
      <Box pos="relative" h={32} style={{ flex: 1, background: "var(--mantine-color-gray-0)", borderRadius: 4 }}>
        {range.dayStarts.slice(1, -1).map((d) => (
          <Box key={d.date} pos="absolute" top={0} bottom={0} left={pct(d.at)} w={1} bg="gray.3" />
        ))}
        {lane.segments
          .filter((s) => s.username || lane.showGaps)
          .map((s) => {
            const from = dayjs(s.start).valueOf();
            const to = dayjs(s.end).valueOf();
            const who = s.username ? label(s.username) : "nobody";
            const when = `${formatIn(s.start, tz, "ddd MM-DD HH:mm")} – ${formatIn(s.end, tz, "ddd MM-DD HH:mm")}`;
            const why = s.source ? ` (${s.source})` : "";
            const color = s.username ? colorOf(s.username) : "red";
            return (
              <Box
                key={`${s.start}-${s.username}`}
                tabIndex={0}
                role="img"
                aria-label={`${who} ${when}${why}`}
                title={`${who} ${when}${why}`}
                data-testid="segment"
                pos="absolute"
                top={2}
                bottom={2}
                left={pct(from)}
                w={`calc(${pct(to)} - ${pct(from)})`}
                px={4}
                style={{
                  background: `var(--mantine-color-${color}-${s.username ? 2 : 1})`,
                  border: `1px solid var(--mantine-color-${color}-${s.username ? 5 : 6})`,
                  borderRadius: 3,
                  overflow: "hidden",
                  whiteSpace: "nowrap",
                  fontSize: 11,
                  lineHeight: "26px",
                }}
              >
                {who}
              </Box>
            );
          })}
        {now > start && now < start + span && <Box pos="absolute" top={0} bottom={0} left={pct(now)} w={2} bg="red.6" aria-hidden />}
      </Box>
    </Group>
  );
}

/** The final schedule for the visible range: one lane per layer (where it decided), overrides and swaps, and the final lane. */
export function ScheduleCalendar({
  schedule,
  range,
  onRange,
  label,
}: {
  schedule: Schedule;
  range: Range;
  onRange: (move: "previous" | "next" | "today" | 7 | 14) => void;
  label: (u: string | null) => string;
}) {
  const api = useApi();
  const tz = schedule.timezone;
  const final = useQuery({
    queryKey: ["oncall", schedule.id, "final", range.start, range.end],
    queryFn: () => unwrap(api.GET("/api/v1/oncall/schedules/{schedule_id}/final", { params: { path: { schedule_id: schedule.id }, query: { start: range.start, end: range.end } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const layers = [...schedule.layers].sort((a, b) => b.priority - a.priority);
  const first = range.dayStarts[0];
  const last = range.dayStarts[range.days - 1];
  return (
    <Stack gap="xs">
      <Group justify="space-between" wrap="wrap">
        <Group gap="xs">
          <Button variant="default" size="xs" leftSection={<IconChevronLeft size={14} />} onClick={() => onRange("previous")}>
            Previous
          </Button>
          <Button variant="default" size="xs" onClick={() => onRange("today")}>
            This week
          </Button>
          <Button variant="default" size="xs" rightSection={<IconChevronRight size={14} />} onClick={() => onRange("next")}>
            Next
          </Button>
          <Text size="sm" fw={500} data-testid="calendar-range">
            {dayjs(first.date).format("ddd D MMM")} – {dayjs(last.date).format("ddd D MMM YYYY")} ({tz})
          </Text>
        </Group>
        <SegmentedControl
          size="xs"
          aria-label="Calendar length"
          value={String(range.days)}
          onChange={(v) => onRange(Number(v) as 7 | 14)}
          data={[
            { value: "7", label: "Week" },
            { value: "14", label: "2 weeks" },
          ]}
        />
      </Group>
      <QueryState query={final}>
        {(data) => {
          const now = Date.now();
          const lanes: Lane[] = [
            ...layers.map((l) => ({ key: l.id, label: `${l.name} (priority ${l.priority})`, segments: data.segments.filter((s) => s.source === "layer" && s.source_id === l.id), showGaps: false })),
            { key: "overrides", label: "Overrides & swaps", segments: data.segments.filter((s) => s.source === "override" || s.source === "swap"), showGaps: false },
            { key: "final", label: "Final", segments: data.segments, showGaps: true },
          ];
          return (
            <Box style={{ overflowX: "auto" }}>
              <Stack gap={4} miw={720}>
                <Group gap={0} wrap="nowrap">
                  <Box w={120} style={{ flexShrink: 0 }} />
                  {range.dayStarts.slice(0, -1).map((d) => (
                    <Text key={d.date} size="xs" c="dimmed" style={{ flex: 1 }} ta="center">
                      {dayjs(d.date).format(range.days > 7 ? "dd D" : "ddd D MMM")}
                    </Text>
                  ))}
                </Group>
                {lanes.map((lane) => (
                  <LaneRow key={lane.key} lane={lane} range={range} tz={tz} label={label} now={now} />
                ))}
              </Stack>
            </Box>
          );
        }}
      </QueryState>
    </Stack>
  );
}
