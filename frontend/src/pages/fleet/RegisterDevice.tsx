import { Alert, Anchor, Button, Group, Modal, NumberInput, Select, SimpleGrid, Stack, Switch, TagsInput, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { showWriteError } from "../../components/forms";
import { CredentialsBundleView, SecretValue } from "./CredentialsBundleView";
import { parseTagPairs, useSiteOptions } from "./shared";

type ProvisionedDevice = components["schemas"]["ProvisionedDevice"];

interface RegisterForm {
  id: string;
  name: string;
  model: string;
  site_id: string | null;
  firmware_version: string;
  heartbeat_interval_s: number | string;
  tags: string[];
  issue_certificate: boolean;
  http_token: boolean;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function RegisterForm({ onDone }: { onDone: (result: ProvisionedDevice) => void }) {
  const api = useApi();
  const client = useQueryClient();
  const sites = useSiteOptions();
  const form = useForm<RegisterForm>({
    initialValues: { id: "", name: "", model: "", site_id: null, firmware_version: "", heartbeat_interval_s: "", tags: [], issue_certificate: true, http_token: false },
    validate: {
      id: (v) => (ID_PATTERN.test(v) ? null : "1-128 letters, digits and _ . : - (starting with a letter or digit)"),
      tags: (v) => parseTagPairs(v).error,
    },
  });
  const register = useMutation({
    mutationFn: (values: RegisterForm) =>
      unwrap(
        api.POST("/api/v1/devices", {
          body: {
            id: values.id,
            name: values.name.trim() || null,
            model: values.model.trim() || null,
            site_id: values.site_id || null,
            firmware_version: values.firmware_version.trim() || null,
            heartbeat_interval_s: values.heartbeat_interval_s === "" ? null : Number(values.heartbeat_interval_s),
            tags: values.tags.length ? parseTagPairs(values.tags).tags : null,
            issue_certificate: values.issue_certificate,
            http_token: values.http_token,
          },
        }),
      ),
    onSuccess: (result) => {
      void client.invalidateQueries({ queryKey: ["devices"] });
      onDone(result);
    },
    onError: (error) => showWriteError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((values) => register.mutate(values))}>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Device id" required data-autofocus description="Also its MQTT client id" {...form.getInputProps("id")} />
          <TextInput label="Name" description="Defaults to the id" {...form.getInputProps("name")} />
          <TextInput label="Model" {...form.getInputProps("model")} />
          <TextInput label="Firmware version" {...form.getInputProps("firmware_version")} />
          <Select label="Site" data={sites} clearable searchable {...form.getInputProps("site_id")} />
          <NumberInput label="Heartbeat interval (s)" min={10} max={604800} description="Offline after missed heartbeats" {...form.getInputProps("heartbeat_interval_s")} />
        </SimpleGrid>
        <TagsInput label="Tags" description="key=value, Enter after each" {...form.getInputProps("tags")} />
        <Switch label="Issue a certificate now" description="Off: the device gets its credentials later through an activation code" {...form.getInputProps("issue_certificate", { type: "checkbox" })} />
        <Switch label="Also issue an HTTP device token (gateways)" {...form.getInputProps("http_token", { type: "checkbox" })} />
        <Group justify="flex-end">
          <Button type="submit" loading={register.isPending}>
            Register
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** "Register device": provisions one device and shows its credentials bundle once. */
export function RegisterDeviceModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const [result, setResult] = useState<ProvisionedDevice | null>(null);
  const close = () => {
    setResult(null);
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={result ? `Device ${result.device.id} registered` : "Register device"} size="lg" closeOnClickOutside={!result}>
      {!result && opened && <RegisterForm onDone={setResult} />}
      {result && (
        <Stack>
          {result.credentials ? (
            <CredentialsBundleView bundle={result.credentials} httpToken={result.http_token} />
          ) : (
            <>
              <Alert color="blue" title="No certificate issued">
                Create an activation code on the device&apos;s Credentials tab; the device fetches its certificate with it.
              </Alert>
              {result.http_token && <SecretValue label="HTTP device token (shown once)" value={result.http_token} />}
            </>
          )}
          <Group justify="space-between">
            <Anchor component={Link} to={`/devices/${encodeURIComponent(result.device.id)}`} onClick={close}>
              Open {result.device.name}
            </Anchor>
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
