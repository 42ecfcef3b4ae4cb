import { Group, NumberInput, PasswordInput, Select, Stack, Switch, TagsInput, Text, TextInput } from "@mantine/core";
import { useForm, type UseFormReturnType } from "@mantine/form";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "../../../api/client";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved } from "../../../components/forms";
import { showFormError } from "../problems";
import { ifMatch, type Channel, type ChannelType } from "../shared";
import {
  CHANNEL_TYPES,
  EMPTY_SECRETS,
  SECRET_LABELS,
  configBody,
  configFromChannel,
  defaultConfig,
  secretKeys,
  secretsBody,
  type ChannelForm,
} from "./channelTypes";

type Form = UseFormReturnType<ChannelForm>;

function ConfigFields({ form, type }: { form: Form; type: ChannelType }) {
  const c = form.getValues().config;
  switch (type) {
    case "webhook":
      return (
        <>
          <TextInput label="URL" required description="https endpoint the JSON event is POSTed to" {...form.getInputProps("config.url")} />
          <NumberInput label="Timeout (s)" min={1} max={30} {...form.getInputProps("config.timeout_s")} />
        </>
      );
    case "email":
      return (
        <>
          <TagsInput label="Recipients" required description="press Enter after each address" {...form.getInputProps("config.to")} />
          <TextInput label="Subject prefix" {...form.getInputProps("config.subject_prefix")} />
        </>
      );
    case "snmp":
      return (
        <>
          <Group grow align="flex-start">
            <TextInput label="Trap receiver host" required {...form.getInputProps("config.host")} />
            <NumberInput label="Port" min={1} max={65535} {...form.getInputProps("config.port")} />
          </Group>
          <Group grow align="flex-start">
            <Select label="SNMP version" data={["v2c", "v3"]} allowDeselect={false} {...form.getInputProps("config.version")} />
            <Select label="Notification" data={["trap", "inform"]} allowDeselect={false} {...form.getInputProps("config.notification")} />
            <NumberInput label="Timeout (s)" min={1} max={30} {...form.getInputProps("config.timeout_s")} />
          </Group>
          {c.version === "v3" && (
            <>
              <TextInput label="USM user" required description="v3 is always authPriv" {...form.getInputProps("config.user")} />
              <Group grow align="flex-start">
                <Select label="Auth protocol" data={["SHA", "SHA-256"]} allowDeselect={false} {...form.getInputProps("config.auth_protocol")} />
                <Select label="Privacy protocol" data={["AES-128"]} allowDeselect={false} {...form.getInputProps("config.priv_protocol")} />
              </Group>
              <TextInput label="Engine id (hex)" description="optional; default derived from the channel id" {...form.getInputProps("config.engine_id")} />
            </>
          )}
        </>
      );
    case "mqtt":
      return (
        <>
          <TextInput label="Topic" required description="tenant/<tenant>/out/<name>, no wildcards" {...form.getInputProps("config.topic")} />
          <Select label="QoS" data={["0", "1"]} allowDeselect={false} {...form.getInputProps("config.qos")} />
        </>
      );
    case "slack":
      return (
        <>
          <Select
            label="Mention on critical and major openings"
            data={[
              { value: "", label: "nobody" },
              { value: "here", label: "@here" },
              { value: "channel", label: "@channel" },
            ]}
            allowDeselect={false}
            {...form.getInputProps("config.mention")}
          />
          <TextInput label="Member id" description="optional Slack member (U…/W…) mentioned in every message" {...form.getInputProps("config.member_id")} />
        </>
      );
    case "pagerduty":
      return <TextInput label="Events API URL" description="EU accounts: events.eu.pagerduty.com" {...form.getInputProps("config.events_url")} />;
    case "sms":
      return <TextInput label="Phone number" required description="international format, e.g. +4915112345678" {...form.getInputProps("config.phone_number")} />;
    case "teams":
      return null;
  }
}

export function ChannelEditor({ channel, onClose }: { channel: Channel | null; onClose: () => void }) {
  const api = useApi();
  const { principal } = useSession();
  const client = useQueryClient();
  const form = useForm<ChannelForm>({
    mode: "controlled",
    initialValues: {
      name: channel?.name ?? "",
      type: channel?.type ?? "webhook",
      enabled: channel?.enabled ?? true,
      config: channel ? configFromChannel(channel, principal.tenant_id) : defaultConfig(principal.tenant_id),
      secrets: { ...EMPTY_SECRETS },
    },
    validate: { name: (v) => (v.trim() ? null : "a channel needs a name") },
  });
  const values = form.getValues();
  const save = useMutation({
    mutationFn: (v: ChannelForm) => {
      const body = { name: v.name.trim(), type: v.type, enabled: v.enabled, config: configBody(v.type, v.config), secrets: secretsBody(v.type, v, !!channel) };
      return channel
        ? unwrap(api.PUT("/api/v1/channels/{channel_id}", { params: { path: { channel_id: channel.id }, header: ifMatch(channel.version) }, body }))
        : unwrap(api.POST("/api/v1/channels", { body }));
    },
    onSuccess: (saved) => {
      showSaved(`channel ${saved.name}`);
      void client.invalidateQueries({ queryKey: ["channels"] });
      onClose();
    },
    onError: (error) => showFormError(error, form),
  });
  const secrets = secretKeys(values.type, values.config.version);
  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v))}>
      <Stack>
        <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
        <Select
          label="Type"
          data={CHANNEL_TYPES}
          allowDeselect={false}
          disabled={!!channel}
          description={channel ? "the type of a channel never changes" : undefined}
          {...form.getInputProps("type")}
          onChange={(value) =>
            value &&
            form.setValues({
              type: value as ChannelType,
              secrets: { ...EMPTY_SECRETS },
              config: { ...form.getValues().config, timeout_s: value === "snmp" ? 3 : 10 },
            })
          }
        />
        <ConfigFields form={form} type={values.type} />
        {form.errors.config && (
          <Text c="red" size="sm" role="alert">
            {form.errors.config}
          </Text>
        )}
        {secrets.length > 0 && (
          <Stack gap="xs">
            <Text size="sm" fw={500}>
              Secrets (write-only{channel?.secret_set ? "; stored secrets are kept when left blank" : ""})
            </Text>
            {secrets.map((key) => (
              <PasswordInput
                key={key}
                autoComplete="new-password"
                label={SECRET_LABELS[key].label}
                description={SECRET_LABELS[key].description}
                placeholder={channel?.secret_set ? "•••••• (set; type to replace)" : undefined}
                required={!channel}
                {...form.getInputProps(`secrets.${key}`)}
              />
            ))}
            {form.errors.secrets && (
              <Text c="red" size="sm" role="alert">
                {form.errors.secrets}
              </Text>
            )}
          </Stack>
        )}
        <Switch label="Enabled" {...form.getInputProps("enabled", { type: "checkbox" })} />
        <FormActions onCancel={onClose} submitLabel={channel ? "Save" : "Create channel"} loading={save.isPending} />
      </Stack>
    </form>
  );
}
