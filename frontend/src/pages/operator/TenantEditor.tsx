import { Group, NumberInput, Select, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { FormActions } from "../../components/actions";
import { showSaved, showWriteError } from "../../components/forms";

/** The tenant being edited: only its name can change here (the plan is changed under Subscriptions). */
export interface EditedTenant {
  id: string;
  name: string;
}

interface TenantForm {
  id: string;
  name: string;
  plan_id: string;
  trial_days: number | string;
}

const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

export function TenantEditor({ tenant, onClose }: { tenant: EditedTenant | null; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const plans = useQuery({ queryKey: ["plans"], queryFn: () => unwrap(api.GET("/api/v1/plans")), staleTime: 5 * 60_000, enabled: !tenant });
  const form = useForm<TenantForm>({
    initialValues: { id: tenant?.id ?? "", name: tenant?.name ?? "", plan_id: "trial", trial_days: 30 },
    validate: {
      id: (v) => (tenant || TENANT_ID.test(v) ? null : "2-63 characters: lower-case letters, digits and -, starting with a letter or digit"),
      name: (v) => (v.trim() ? null : "a tenant needs a name"),
    },
  });
  const save = useMutation({
    mutationFn: (values: TenantForm) =>
      tenant
        ? unwrap(api.PATCH("/api/v1/tenant", { params: { header: { "X-Pulse-Tenant": tenant.id } }, body: { name: values.name.trim() } }))
        : unwrap(
            api.POST("/api/v1/tenants", {
              body: { id: values.id, name: values.name.trim(), plan_id: values.plan_id, trial_days: Number(values.trial_days) },
            }),
          ),
    onSuccess: (saved) => {
      showSaved(`tenant ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["operator"] });
      onClose();
    },
    onError: (error) => showWriteError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))}>
      <Stack>
        <TextInput label="Tenant id" required disabled={!!tenant} description={tenant ? undefined : "permanent; used in device topics"} {...form.getInputProps("id")} />
        <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
        {!tenant && (
          <Group grow align="flex-start">
            <Select
              label="Plan"
              data={(plans.data ?? [{ id: "trial", name: "Trial" }]).map((p) => ({ value: p.id, label: p.name }))}
              allowDeselect={false}
              {...form.getInputProps("plan_id")}
            />
            <NumberInput label="Trial days" min={1} max={365} {...form.getInputProps("trial_days")} />
          </Group>
        )}
        <FormActions onCancel={onClose} submitLabel={tenant ? "Save" : "Create tenant"} loading={save.isPending} />
      </Stack>
    </form>
  );
}
