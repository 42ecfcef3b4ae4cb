import { Alert, Button, Code, CopyButton, Group, Stack, Table, Text } from "@mantine/core";
import { IconDownload, IconKey } from "@tabler/icons-react";

import type { components } from "../../api/schema";

type CredentialsBundle = components["schemas"]["CredentialsBundle"];

/** Save text as a file from the browser (nothing is sent anywhere). */
export function downloadText(filename: string, text: string, type = "application/x-pem-file"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

export function SecretValue({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Group gap="xs" wrap="nowrap" align="flex-start">
        <Code block style={{ flex: 1, wordBreak: "break-all", whiteSpace: "pre-wrap" }} data-testid="secret-value">
          {value}
        </Code>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button size="xs" variant="light" onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}

/** A device's certificate bundle: the API returns it exactly once, so it is downloaded now or never. */
export function CredentialsBundleView({ bundle, httpToken }: { bundle: CredentialsBundle; httpToken?: string | null }) {
  const base = bundle.device_id;
  return (
    <Stack>
      <Alert color="yellow" icon={<IconKey size={18} />} title="Save these credentials now">
        The private key {httpToken ? "and the HTTP token are" : "is"} shown only this once; Pulse does not keep a copy.
      </Alert>
      <Group gap="xs" wrap="wrap">
        <Button leftSection={<IconDownload size={16} />} onClick={() => downloadText(`${base}.cert.pem`, bundle.certificate_pem)}>
          Download certificate
        </Button>
        <Button leftSection={<IconDownload size={16} />} color="red" onClick={() => downloadText(`${base}.private.key`, bundle.private_key)}>
          Download private key
        </Button>
        <Button leftSection={<IconDownload size={16} />} variant="default" onClick={() => downloadText("root-ca.pem", bundle.root_ca_pem)}>
          Download root CA
        </Button>
      </Group>
      <Table.ScrollContainer minWidth={400}>
        <Table>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={160}>Endpoint</Table.Th>
              <Table.Td>
                <Code>{bundle.endpoint}</Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Thing name</Table.Th>
              <Table.Td>
                <Code>{bundle.thing_name}</Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Certificate id</Table.Th>
              <Table.Td>
                <Code>{bundle.certificate_id}</Code>
              </Table.Td>
            </Table.Tr>
            {Object.entries(bundle.topics).map(([kind, topic]) => (
              <Table.Tr key={kind}>
                <Table.Th>Topic: {kind}</Table.Th>
                <Table.Td>
                  <Code>{topic}</Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {httpToken && <SecretValue label="HTTP device token" value={httpToken} />}
    </Stack>
  );
}
