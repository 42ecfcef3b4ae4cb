import { ActionIcon, Button, Group, NumberInput, Select, Stack, Switch, Text, Title } from "@mantine/core";
import { useForm, type UseFormReturnType } from "@mantine/form";
import { IconArrowDown, IconArrowUp, IconPlus, IconX } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { ApiError } from "../../../api/errors";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { showSaved } from "../../../components/forms";
import { formatTime } from "../../../components/format";
import { QueryState } from "../../../components/QueryState";
import { showFormError } from "../problems";
import { ifMatch, withUnknown } from "../shared";
import { methodLabel, useContactMethods } from "./ContactMethods";

type Policy = components["schemas"]["NotificationPolicy"];
interface RuleForm {
  key: string;
  contact_method_id: string;
  wait_minutes: number | string;
}
interface PolicyForm {
  default: RuleForm[];
  critical_on: boolean;
  critical: RuleForm[];
}
type ListName = "default" | "critical";

let nextKey = 0;
const rule = (contact_method_id = "", wait_minutes: number | string = 0): RuleForm => ({ key: `rule-${++nextKey}`, contact_method_id, wait_minutes });

function RuleList({ form, list, title, options }: { form: UseFormReturnType<PolicyForm>; list: ListName; title: string; options: { value: string; label: string }[] }) {
  const rules = form.getValues()[list];
  const error = form.errors[list];
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {title}
      </Text>
      {rules.map((r, i) => (
        <Group key={r.key} gap="xs" align="flex-start" wrap="wrap" data-testid={`${list}-rule`}>
          <Text size="sm" w={20} mt={8}>
            {i + 1}.
          </Text>
          <NumberInput aria-label={`${title} ${i + 1}: wait (minutes)`} description={i === 0 ? "minutes after the page" : "minutes after the previous"} min={0} max={1440} w={170} {...form.getInputProps(`${list}.${i}.wait_minutes`)} />
          <Select aria-label={`${title} ${i + 1}: contact method`} placeholder="contact method" data={withUnknown(options, [r.contact_method_id])} w={280} {...form.getInputProps(`${list}.${i}.contact_method_id`)} />
          <ActionIcon mt={4} variant="subtle" aria-label={`Move ${title.toLowerCase()} ${i + 1} up`} disabled={i === 0} onClick={() => form.reorderListItem(list, { from: i, to: i - 1 })}>
            <IconArrowUp size={14} />
          </ActionIcon>
          <ActionIcon mt={4} variant="subtle" aria-label={`Move ${title.toLowerCase()} ${i + 1} down`} disabled={i === rules.length - 1} onClick={() => form.reorderListItem(list, { from: i, to: i + 1 })}>
            <IconArrowDown size={14} />
          </ActionIcon>
          <ActionIcon mt={4} variant="subtle" color="red" aria-label={`Remove ${title.toLowerCase()} ${i + 1}`} disabled={rules.length === 1} onClick={() => form.removeListItem(list, i)}>
            <IconX size={14} />
          </ActionIcon>
        </Group>
      ))}
      {typeof error === "string" && (
        <Text c="red" size="sm">
          {error}
        </Text>
      )}
      <Group>
        <Button size="xs" variant="subtle" leftSection={<IconPlus size={14} />} disabled={rules.length >= 10} onClick={() => form.insertListItem(list, rule("", 5))}>
          Add rule
        </Button>
      </Group>
    </Stack>
  );
}

function PolicyForm({ username, policy, options }: { username: string; policy: Policy | null; options: { value: string; label: string }[] }) {
  const api = useApi();
  const client = useQueryClient();
  const toRules = (list: Policy["default"] | null | undefined) => (list ?? []).map((r) => rule(r.contact_method_id, r.wait_minutes ?? 0));
  const form = useForm<PolicyForm>({
    mode: "controlled",
    initialValues: {
      default: policy ? toRules(policy.default) : [rule(options[0]?.value ?? "")],
      critical_on: !!policy?.critical,
      critical: policy?.critical ? toRules(policy.critical) : [rule(options[0]?.value ?? "")],
    },
    validate: {
      default: { contact_method_id: (v) => (v ? null : "pick a contact method") },
      critical: { contact_method_id: (v, all) => (!all.critical_on || v ? null : "pick a contact method") },
    },
  });
  const save = useMutation({
    mutationFn: (v: PolicyForm) => {
      const body = {
        default: v.default.map((r) => ({ contact_method_id: r.contact_method_id, wait_minutes: Number(r.wait_minutes || 0) })),
        critical: v.critical_on ? v.critical.map((r) => ({ contact_method_id: r.contact_method_id, wait_minutes: Number(r.wait_minutes || 0) })) : null,
      };
      return unwrap(api.PUT("/api/v1/users/{username}/notification-policy", { params: { path: { username }, header: policy ? ifMatch(policy.version) : undefined }, body }));
    },
    onSuccess: (saved) => {
      showSaved("notification policy");
      client.setQueryData(["notification-policy", username], saved);
    },
    onError: (error) => showFormError(error, form),
  });
  const v = form.getValues();
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack gap="sm">
        <RuleList form={form} list="default" title="Rule" options={options} />
        <Switch label="A separate list for critical alerts" {...form.getInputProps("critical_on", { type: "checkbox" })} />
        {v.critical_on && <RuleList form={form} list="critical" title="Critical rule" options={options} />}
        <Group justify="space-between">
          <Text size="xs" c="dimmed">
            {policy ? `Version ${policy.version}, changed ${formatTime(policy.updated_at)} by ${policy.updated_by}` : "No policy yet: every contact method is paged at once."}
          </Text>
          <Button type="submit" loading={save.isPending}>
            Save policy
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** How an escalation step pages this person: ordered contact methods with waits, optionally a critical list. */
export function PersonalPolicy({ username }: { username: string }) {
  const api = useApi();
  const methods = useContactMethods(username);
  const policy = useQuery({
    queryKey: ["notification-policy", username],
    queryFn: async () => {
      try {
        return await unwrap(api.GET("/api/v1/users/{username}/notification-policy", { params: { path: { username } } }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
  const options = (methods.data ?? []).map((m) => ({ value: m.id, label: methodLabel(m) }));
  return (
    <Stack gap="xs">
      <Title order={4}>Notification policy</Title>
      <QueryState query={policy}>
        {(data) =>
          methods.isPending ? null : options.length === 0 && !data ? (
            <Text size="sm" c="dimmed">
              Add a contact method first; the policy orders them.
            </Text>
          ) : (
            <PolicyForm key={data?.version ?? 0} username={username} policy={data} options={options} />
          )
        }
      </QueryState>
    </Stack>
  );
}
