import { Alert, Group, List, Select, Stack, Text, Title } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { QueryState } from "../../../components/QueryState";
import { formatIn, type Schedule } from "../shared";
import { hoursBetween } from "./time";

/** Stretches of the next N days with nobody on call, highlighted. */
export function Gaps({ schedule }: { schedule: Schedule }) {
  const api = useApi();
  const [days, setDays] = useState("14");
  const query = useQuery({
    queryKey: ["oncall", schedule.id, "gaps", days],
    queryFn: () => unwrap(api.GET("/api/v1/oncall/schedules/{schedule_id}/gaps", { params: { path: { schedule_id: schedule.id }, query: { days: Number(days) } } })),
    refetchInterval: LIVE_REFRESH_MS * 15,
  });
  const tz = schedule.timezone;
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={4}>Coverage gaps</Title>
        <Select
          aria-label="Look ahead"
          size="xs"
          w={140}
          allowDeselect={false}
          value={days}
          onChange={(v) => v && setDays(v)}
          data={["7", "14", "30", "90"].map((d) => ({ value: d, label: `next ${d} days` }))}
        />
      </Group>
      <QueryState query={query}>
        {(data) =>
          data.gaps.length === 0 ? (
            <Text size="sm" c="green.7" data-testid="no-gaps">
              Someone is on call all the time in the next {days} days.
            </Text>
          ) : (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title={`${data.gaps.length} ${data.gaps.length === 1 ? "gap" : "gaps"}: nobody is on call`}>
              <List size="sm" spacing={2}>
                {data.gaps.map((g) => (
                  <List.Item key={g.start} data-testid="gap">
                    {formatIn(g.start, tz)} → {formatIn(g.end, tz)} ({hoursBetween(g.start, g.end)})
                  </List.Item>
                ))}
              </List>
            </Alert>
          )
        }
      </QueryState>
    </Stack>
  );
}
