import { Alert, Button, Code, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconCertificate, IconKey, IconLock, IconTicket } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { StatusBadge } from "../../../components/badges";
import { formatTime } from "../../../components/format";
import { showSaved, showWriteError } from "../../../components/forms";
import { WriteOnly } from "../../../components/WriteOnly";
import { CredentialsBundleView, SecretValue } from "../CredentialsBundleView";
import type { Device } from "../shared";

type CredentialsBundle = components["schemas"]["CredentialsBundle"];
type ActivationCode = components["schemas"]["ActivationCode"];

type Issued = { kind: "bundle"; bundle: CredentialsBundle } | { kind: "token"; token: string } | { kind: "code"; code: ActivationCode };

function Action({ title, children, button }: { title: string; children: ReactNode; button: ReactNode }) {
  return (
    <Paper withBorder p="sm">
      <Stack gap="xs" h="100%" justify="space-between">
        <Stack gap={4}>
          <Text fw={600}>{title}</Text>
          <Text size="sm" c="dimmed">
            {children}
          </Text>
        </Stack>
        <Group>{button}</Group>
      </Stack>
    </Paper>
  );
}

function IssuedView({ issued }: { issued: Issued }) {
  if (issued.kind === "bundle") return <CredentialsBundleView bundle={issued.bundle} />;
  if (issued.kind === "token")
    return (
      <Stack>
        <Alert color="yellow" title="Save this token now">
          It is shown only this once; the previous token no longer works.
        </Alert>
        <SecretValue label="HTTP device token" value={issued.token} />
      </Stack>
    );
  return (
    <Stack>
      <SecretValue label="Activation code" value={issued.code.code} />
      <Text size="sm">Valid until {formatTime(issued.code.expires_at)}. The device exchanges it once for its certificate.</Text>
    </Stack>
  );
}

export function DeviceCredentials({ device }: { device: Device }) {
  const api = useApi();
  const client = useQueryClient();
  const [issued, setIssued] = useState<Issued | null>(null);
  const path = { params: { path: { device_id: device.id } } };
  const refresh = () => void client.invalidateQueries({ queryKey: ["devices"] });
  const rotate = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/devices/{device_id}/rotate", path)),
    onSuccess: (bundle) => {
      setIssued({ kind: "bundle", bundle });
      refresh();
    },
    onError: (error) => showWriteError(error),
  });
  const revoke = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/devices/{device_id}/revoke", path)),
    onSuccess: (after) => {
      client.setQueryData(["devices", "detail", device.id], after);
      showSaved(`${after.name} revoked`);
      refresh();
    },
    onError: (error) => showWriteError(error),
  });
  const token = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/devices/{device_id}/token", path)),
    onSuccess: (answer) => {
      setIssued({ kind: "token", token: answer.token });
      refresh();
    },
    onError: (error) => showWriteError(error),
  });
  const activation = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/devices/{device_id}/activation-code", path)),
    onSuccess: (code) => setIssued({ kind: "code", code }),
    onError: (error) => showWriteError(error),
  });
  const confirm = (title: string, body: string, label: string, run: () => void, danger = false) =>
    modals.openConfirmModal({ title, children: body, labels: { confirm: label, cancel: "Cancel" }, confirmProps: { color: danger ? "red" : undefined }, onConfirm: run });
  const usable = device.status === "active";

  return (
    <Stack>
      <Paper withBorder p="sm">
        <Title order={4} mb="xs">
          Credentials
        </Title>
        <Table>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={180}>Device status</Table.Th>
              <Table.Td>
                <StatusBadge status={device.status} />
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Thing name</Table.Th>
              <Table.Td>{device.thing_name ? <Code>{device.thing_name}</Code> : "—"}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Certificate</Table.Th>
              <Table.Td>{device.certificate_id ? <Code>{device.certificate_id}</Code> : "none issued"}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>HTTP token</Table.Th>
              <Table.Td>{device.has_http_token ? "issued" : "none"}</Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Paper>
      <WriteOnly>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
          <Action
            title="Rotate certificate"
            button={
              <Button leftSection={<IconCertificate size={16} />} disabled={!usable} loading={rotate.isPending} onClick={() => confirm("Rotate the certificate?", "A new certificate is issued now; the old one is revoked when the grace period ends.", "Rotate", () => rotate.mutate())}>
                Rotate certificate
              </Button>
            }
          >
            Issues a new certificate and private key, shown once for download.
          </Action>
          <Action
            title="HTTP token"
            button={
              <Button
                variant="default"
                leftSection={<IconKey size={16} />}
                disabled={!usable}
                loading={token.isPending}
                onClick={() =>
                  confirm(
                    "Issue an HTTP token?",
                    device.has_http_token ? "The device's current HTTP token stops working at once." : "The device can then send over HTTPS with this token.",
                    "Issue token",
                    () => token.mutate(),
                  )
                }
              >
                Issue HTTP token
              </Button>
            }
          >
            For gateways that send over HTTPS; a new token replaces the old one.
          </Action>
          <Action
            title="Activation code"
            button={
              <Button variant="default" leftSection={<IconTicket size={16} />} disabled={!usable} loading={activation.isPending} onClick={() => activation.mutate()}>
                Create activation code
              </Button>
            }
          >
            A one-time code the device exchanges for its certificate.
          </Action>
          <Action
            title="Revoke"
            button={
              <Button
                color="red"
                leftSection={<IconLock size={16} />}
                disabled={!usable}
                loading={revoke.isPending}
                onClick={() => confirm(`Revoke ${device.name}?`, "Its certificate and token stop working now; the device can no longer connect or send.", "Revoke", () => revoke.mutate(), true)}
              >
                Revoke device
              </Button>
            }
          >
            Cuts the device off: certificate revoked, token invalid.
          </Action>
        </SimpleGrid>
      </WriteOnly>
      <Modal opened={issued !== null} onClose={() => setIssued(null)} title={issued?.kind === "code" ? "Activation code" : "New credentials"} size="lg" closeOnClickOutside={false}>
        {issued && (
          <Stack>
            <IssuedView issued={issued} />
            <Group justify="flex-end">
              <Button onClick={() => setIssued(null)}>Done</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
