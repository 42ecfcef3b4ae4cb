import { NumberInput, PasswordInput, Stack, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { useApi } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved } from "../../../components/forms";
import { showFormError } from "../problems";
import { ifMatch, type Channel } from "../shared";

/** A new webhook signing secret; the previous one keeps signing for the grace period. */
export function RotateSecret({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm({
    initialValues: { signing_secret: "", grace_hours: 24 as number | string },
    validate: { signing_secret: (v) => (v.length >= 16 ? null : "at least 16 characters") },
  });
  const rotate = useMutation({
    mutationFn: (v: { signing_secret: string; grace_hours: number | string }) =>
      unwrap(
        api.POST("/api/v1/channels/{channel_id}/rotate-secret", {
          params: { path: { channel_id: channel.id }, header: ifMatch(channel.version) },
          body: { signing_secret: v.signing_secret, grace_s: Math.round(Number(v.grace_hours || 0) * 3600) },
        }),
      ),
    onSuccess: (saved) => {
      showSaved(`new signing secret for ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["channels"] });
      onClose();
    },
    onError: (error) => showFormError(error, form, { mapField: (f) => (f === "grace_s" ? "grace_hours" : f) }),
  });
  return (
    <form onSubmit={form.onSubmit((v) => rotate.mutate(v))}>
      <Stack>
        <Text size="sm" c="dimmed">
          Deliveries carry a signature by each secret during the grace period, so receivers can switch without missing one.
        </Text>
        <PasswordInput label="New signing secret" required autoComplete="new-password" data-autofocus {...form.getInputProps("signing_secret")} />
        <NumberInput label="Grace period (hours)" min={0} max={168} {...form.getInputProps("grace_hours")} />
        <FormActions onCancel={onClose} submitLabel="Rotate secret" loading={rotate.isPending} />
      </Stack>
    </form>
  );
}
