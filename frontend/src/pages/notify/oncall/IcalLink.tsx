import { ActionIcon, Alert, Button, CopyButton, Group, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconCalendarShare, IconCheck, IconCopy } from "@tabler/icons-react";
import { useMutation } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { showWriteError } from "../../../components/forms";
import type { Schedule } from "../shared";

/** The feed's full URL: the token path under the API's origin (the path already holds /api/v1). */
export function feedUrl(apiBaseUrl: string, path: string): string {
  // The API may sit under a prefix (a stage path): keep it, only the trailing /api/v1 is the path's own.
  const root = apiBaseUrl.replace(/\/api\/v1\/?$/, "");
  return `${/^https?:\/\//.test(root) ? root : `${window.location.origin}${root}`}${path}`;
}

/** A new secret iCal feed URL (shown once; the previous one stops working) with a copy button. */
export function IcalLink({ schedule }: { schedule: Schedule }) {
  const api = useApi();
  const { config } = useSession();
  const rotate = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/oncall/schedules/{schedule_id}/ical-token", { params: { path: { schedule_id: schedule.id } } })),
    onError: (error) => showWriteError(error),
  });
  const confirm = () =>
    modals.openConfirmModal({
      title: "Create a new calendar link?",
      children: "Anyone with the link can read the schedule. Creating a new one stops the previous link.",
      labels: { confirm: "Create link", cancel: "Cancel" },
      onConfirm: () => rotate.mutate(),
    });
  const url = rotate.data ? feedUrl(config.apiBaseUrl, rotate.data.path) : null;
  return (
    <Stack gap="xs">
      <Group>
        <Button size="xs" variant="light" leftSection={<IconCalendarShare size={14} />} onClick={confirm} loading={rotate.isPending}>
          {url ? "New calendar link" : "Calendar link (iCal)"}
        </Button>
      </Group>
      {url && (
        <Alert color="blue" title="Subscribe in your calendar app" data-testid="ical-link">
          <Stack gap={4}>
            <Group gap="xs" wrap="nowrap">
              <TextInput aria-label="iCal feed URL" value={url} readOnly style={{ flex: 1 }} onFocus={(e) => e.currentTarget.select()} />
              <CopyButton value={url}>
                {({ copied, copy }) => (
                  <Tooltip label={copied ? "Copied" : "Copy"}>
                    <ActionIcon variant="light" aria-label="Copy iCal URL" onClick={copy} color={copied ? "teal" : "blue"}>
                      {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                    </ActionIcon>
                  </Tooltip>
                )}
              </CopyButton>
            </Group>
            <Text size="xs" c="dimmed">
              Shown once: keep it secret. Add ?user=&lt;username&gt; for one person&apos;s shifts only.
            </Text>
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}
