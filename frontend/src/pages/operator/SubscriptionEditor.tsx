import { Alert, Select, Stack, Text } from "@mantine/core";
import { DateTimePicker } from "@mantine/dates";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { FormActions } from "../../components/actions";
import { formatTime } from "../../components/format";
import { showSaved, showWriteError } from "../../components/forms";

type OperatorSubscription = components["schemas"]["OperatorSubscription"];

interface ChangeForm {
  plan_id: string;
  ends_at: Date | null;
}

/** The API's change: a plan and/or a new end of the paid period; the status follows from the dates. */
export function SubscriptionEditor({ subscription, onClose }: { subscription: OperatorSubscription; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const plans = useQuery({ queryKey: ["plans"], queryFn: () => unwrap(api.GET("/api/v1/plans")), staleTime: 5 * 60_000 });
  const form = useForm<ChangeForm>({
    initialValues: { plan_id: subscription.plan_id, ends_at: null },
    validate: {
      plan_id: (v, values) => (v === subscription.plan_id && !values.ends_at ? "choose another plan or a new end date" : null),
    },
  });
  const save = useMutation({
    mutationFn: (values: ChangeForm) =>
      unwrap(
        api.PUT("/api/v1/operator/tenants/{tenant_id}/subscription", {
          params: { path: { tenant_id: subscription.tenant_id }, header: { "If-Match": `"${subscription.version}"` } },
          body: {
            plan_id: values.plan_id !== subscription.plan_id ? values.plan_id : undefined,
            ends_at: values.ends_at ? values.ends_at.toISOString() : undefined,
          },
        }),
      ),
    onSuccess: (saved) => {
      showSaved(`${saved.tenant_name}: ${saved.plan_name}, ${saved.status}`);
      void client.invalidateQueries({ queryKey: ["operator"] });
      onClose();
    },
    onError: (error) => {
      showWriteError(error, form);
      if (error instanceof ApiError && error.status === 412) void client.invalidateQueries({ queryKey: ["operator", "subscriptions"] });
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <Text size="sm">
          Now: <b>{subscription.plan_name}</b>, {subscription.status}
          {subscription.is_trial ? " (trial)" : ""}, until {formatTime(subscription.ends_at)}.
        </Text>
        <Select
          label="Plan"
          data={(plans.data ?? [{ id: subscription.plan_id, name: subscription.plan_name }]).map((p) => ({ value: p.id, label: p.name }))}
          allowDeselect={false}
          data-autofocus
          {...form.getInputProps("plan_id")}
        />
        <DateTimePicker
          label="Paid until"
          description="Optional. Setting it ends a trial; the status follows: active until then, then grace, suspended and expired by the plan's days."
          clearable
          valueFormat="YYYY-MM-DD HH:mm"
          {...form.getInputProps("ends_at")}
        />
        {save.error instanceof ApiError && save.error.status === 412 && (
          <Alert color="yellow" title="Changed meanwhile">
            Someone changed this subscription since the list was loaded. Close, check the new values and try again.
          </Alert>
        )}
        <FormActions onCancel={onClose} submitLabel="Change subscription" loading={save.isPending} />
      </Stack>
    </form>
  );
}
