import { Fieldset, Group, MultiSelect, NumberInput, Select, SimpleGrid, Stack, Switch, TagsInput, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved } from "../../../components/forms";
import { showFormError } from "../problems";
import { SEVERITIES, channelOptions, ifMatch, useAllChannels, withUnknown, type Route, type Severity } from "../shared";

type RouteIn = components["schemas"]["RouteIn"];
type AlertEvent = NonNullable<components["schemas"]["RouteMatchers"]["events"]>[number];
type GroupField = NonNullable<RouteIn["group_by"]>[number];

export const ALERT_EVENTS: AlertEvent[] = ["opened", "reopened", "acknowledged", "unacknowledged", "snoozed", "unsnoozed", "assigned", "commented", "escalated", "resolved", "closed"];
const GROUP_FIELDS: GroupField[] = ["rule_id", "site_id", "device_id", "severity", "fingerprint"];

interface RouteForm {
  name: string;
  enabled: boolean;
  matchers: { events: string[]; severity_at_least: string; site_ids: string[]; device_id_prefixes: string[]; rule_ids: string[]; tags: string[] };
  channel_ids: string[];
  escalation_policy_id: string;
  continue: boolean;
  group_by: string[];
  group_wait_s: number | string;
  group_interval_s: number | string;
  repeat_interval_s: number | string;
  throttle_on: boolean;
  throttle: { limit: number | string; window_s: number | string };
}

function toForm(route: Route | null): RouteForm {
  const m = route?.matchers;
  return {
    name: route?.name ?? "",
    enabled: route?.enabled ?? true,
    matchers: {
      events: m?.events ?? [],
      severity_at_least: m?.severity_at_least ?? "",
      site_ids: m?.site_ids ?? [],
      device_id_prefixes: m?.device_id_prefixes ?? [],
      rule_ids: m?.rule_ids ?? [],
      tags: Object.entries(m?.tags ?? {}).map(([k, v]) => `${k}=${v}`),
    },
    channel_ids: route?.channel_ids ?? [],
    escalation_policy_id: route?.escalation_policy_id ?? "",
    continue: route?.continue ?? false,
    group_by: route?.group_by ?? [],
    group_wait_s: route?.group_wait_s ?? 30,
    group_interval_s: route?.group_interval_s ?? 300,
    repeat_interval_s: route?.repeat_interval_s ?? 0,
    throttle_on: !!route?.throttle,
    throttle: { limit: route?.throttle?.limit ?? 10, window_s: route?.throttle?.window_s ?? 3600 },
  };
}

function toBody(v: RouteForm): RouteIn {
  return {
    name: v.name.trim(),
    enabled: v.enabled,
    matchers: {
      events: v.matchers.events as AlertEvent[],
      severity_at_least: (v.matchers.severity_at_least || null) as Severity | null,
      site_ids: v.matchers.site_ids,
      device_id_prefixes: v.matchers.device_id_prefixes,
      rule_ids: v.matchers.rule_ids,
      tags: Object.fromEntries(v.matchers.tags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)])),
    },
    channel_ids: v.channel_ids,
    escalation_policy_id: v.escalation_policy_id || null,
    continue: v.continue,
    group_by: v.group_by as GroupField[],
    group_wait_s: Number(v.group_wait_s || 0),
    group_interval_s: Number(v.group_interval_s || 0),
    repeat_interval_s: Number(v.repeat_interval_s || 0),
    throttle: v.throttle_on ? { limit: Number(v.throttle.limit), window_s: Number(v.throttle.window_s) } : null,
  };
}

function usePickers() {
  const api = useApi();
  const channels = useAllChannels();
  const policies = useQuery({
    queryKey: ["escalation-policies", "options"],
    queryFn: () => unwrap(api.GET("/api/v1/escalation-policies", { params: { query: { limit: 500 } } })),
  });
  const sites = useQuery({ queryKey: ["sites", "options"], queryFn: () => unwrap(api.GET("/api/v1/sites", { params: { query: { limit: 500 } } })) });
  const rules = useQuery({ queryKey: ["rules", "options"], queryFn: () => unwrap(api.GET("/api/v1/rules", { params: { query: { limit: 500 } } })) });
  return {
    channels: channelOptions(channels.data),
    policies: (policies.data?.items ?? []).map((p) => ({ value: p.id, label: p.name })),
    sites: (sites.data?.items ?? []).map((s) => s.id),
    rules: (rules.data?.items ?? []).map((r) => r.id),
  };
}

export function RouteEditor({ route, onClose }: { route: Route | null; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const pickers = usePickers();
  const form = useForm<RouteForm>({
    mode: "controlled",
    initialValues: toForm(route),
    validate: {
      name: (v) => (v.trim() ? null : "a route needs a name"),
      channel_ids: (v, all) => (v.length || all.escalation_policy_id ? null : "pick channels, an escalation policy, or both"),
      matchers: { tags: (v) => (v.every((t) => t.indexOf("=") > 0) ? null : "write each tag as key=value") },
    },
  });
  const v = form.getValues();
  const save = useMutation({
    mutationFn: (values: RouteForm) =>
      route
        ? unwrap(api.PUT("/api/v1/notification-routes/{route_id}", { params: { path: { route_id: route.id }, header: ifMatch(route.version) }, body: toBody(values) }))
        : unwrap(api.POST("/api/v1/notification-routes", { body: toBody(values) })),
    onSuccess: (saved) => {
      showSaved(`route ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["notification-routes"] });
      onClose();
    },
    onError: (error) =>
      showFormError(error, form, { mapField: (f) => (f.startsWith("matchers.tags.") ? "matchers.tags" : f === "throttle" ? "throttle.limit" : f) }),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <Group grow align="flex-start">
          <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
          <Switch mt="xl" label="Enabled" {...form.getInputProps("enabled", { type: "checkbox" })} />
        </Group>
        <Fieldset legend="Matchers (every one given must match; empty matches anything)">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <MultiSelect label="Alert events" data={ALERT_EVENTS} placeholder="any event" {...form.getInputProps("matchers.events")} />
            <Select label="Severity at least" data={[{ value: "", label: "any severity" }, ...SEVERITIES.map((s) => ({ value: s, label: s }))]} allowDeselect={false} {...form.getInputProps("matchers.severity_at_least")} />
            <TagsInput label="Sites" data={pickers.sites} placeholder="any site" {...form.getInputProps("matchers.site_ids")} />
            <TagsInput label="Rules" data={pickers.rules} placeholder="any rule" {...form.getInputProps("matchers.rule_ids")} />
            <TagsInput label="Device id prefixes" placeholder="any device" {...form.getInputProps("matchers.device_id_prefixes")} />
            <TagsInput label="Device tags" description="key=value; all must be on the device" {...form.getInputProps("matchers.tags")} />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend="Then">
          <Stack>
            <MultiSelect label="Channels" data={withUnknown(pickers.channels, v.channel_ids)} searchable {...form.getInputProps("channel_ids")} />
            <Select label="Escalation policy" data={withUnknown([{ value: "", label: "none" }, ...pickers.policies], [v.escalation_policy_id])} allowDeselect={false} {...form.getInputProps("escalation_policy_id")} />
            <Switch label="Continue: also try the routes after this one" {...form.getInputProps("continue", { type: "checkbox" })} />
          </Stack>
        </Fieldset>
        <Fieldset legend="Grouping, repeat and throttle">
          <Stack>
            <MultiSelect label="Group by" data={GROUP_FIELDS} placeholder="no grouping" {...form.getInputProps("group_by")} />
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <NumberInput label="Group wait (s)" min={0} max={3600} {...form.getInputProps("group_wait_s")} />
              <NumberInput label="Group interval (s)" min={0} max={86400} {...form.getInputProps("group_interval_s")} />
              <NumberInput label="Repeat interval (s)" description="0: off" min={0} max={604800} {...form.getInputProps("repeat_interval_s")} />
            </SimpleGrid>
            <Switch label="Throttle" {...form.getInputProps("throttle_on", { type: "checkbox" })} />
            {v.throttle_on && (
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <NumberInput label="At most (notifications)" min={1} max={100000} {...form.getInputProps("throttle.limit")} />
                <NumberInput label="Per window (s)" min={60} max={86400} {...form.getInputProps("throttle.window_s")} />
              </SimpleGrid>
            )}
          </Stack>
        </Fieldset>
        <FormActions onCancel={onClose} submitLabel={route ? "Save" : "Create route"} loading={save.isPending} />
      </Stack>
    </form>
  );
}
