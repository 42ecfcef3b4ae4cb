import { Badge, Button, Code, FileInput, Group, List, Modal, Stack, Table, Text } from "@mantine/core";
import { IconFileUpload } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";
import { showWriteError } from "../../components/forms";

type ImportReport = components["schemas"]["ImportReport"];

/** FileReader rather than Blob.text(): the same in every browser and in jsdom. */
export function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsText(file);
  });
}

const ROW_COLORS: Record<string, string> = { valid: "blue", created: "green", invalid: "red" };

function ImportReportView({ report }: { report: ImportReport }) {
  return (
    <Stack gap="xs" data-testid="import-report">
      <Group gap="xs" wrap="wrap">
        {report.dry_run && <Badge color="gray">dry run: nothing created</Badge>}
        <Badge variant="light">{report.total} rows</Badge>
        <Badge variant="light" color="blue">
          {report.valid} valid
        </Badge>
        <Badge variant="light" color="red">
          {report.invalid} invalid
        </Badge>
        <Badge variant="light" color="green">
          {report.created} created
        </Badge>
      </Group>
      <Table.ScrollContainer minWidth={480} mah={320}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Row</Table.Th>
              <Table.Th>Device</Table.Th>
              <Table.Th>Result</Table.Th>
              <Table.Th>Problems</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {report.rows.map((row) => (
              <Table.Tr key={row.row}>
                <Table.Td>{row.row}</Table.Td>
                <Table.Td>{row.device_id ?? "—"}</Table.Td>
                <Table.Td>
                  <Badge color={ROW_COLORS[row.status]} variant="light">
                    {row.status}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {row.errors?.length ? (
                    <List size="sm">
                      {row.errors.map((e) => (
                        <List.Item key={e}>{e}</List.Item>
                      ))}
                    </List>
                  ) : (
                    "—"
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/** CSV import with a dry run first; the API answers with a report for every row. */
export function ImportDevicesModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const run = useMutation({
    mutationFn: async (dryRun: boolean) => {
      const text = await readText(file!);
      return unwrap(
        api.POST("/api/v1/devices/import", {
          params: { query: { dry_run: dryRun } },
          body: text as never,
          bodySerializer: (body: unknown) => body as string,
          headers: { "Content-Type": "text/csv" },
        }),
      );
    },
    onSuccess: (result) => {
      setReport(result);
      if (result.created > 0) void client.invalidateQueries({ queryKey: ["devices"] });
    },
    onError: (error) => showWriteError(error),
  });
  const close = () => {
    setFile(null);
    setReport(null);
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Import devices from CSV" size="xl">
      <Stack>
        <Text size="sm">
          Header row required. Columns: <Code>id</Code> (required), <Code>name</Code>, <Code>model</Code>, <Code>site_id</Code>, <Code>firmware_version</Code>, <Code>lat</Code>, <Code>lng</Code>,{" "}
          <Code>heartbeat_interval_s</Code>, <Code>tags</Code> (<Code>key=value;key=value</Code>). Imported devices get their certificates later through activation codes.
        </Text>
        <FileInput
          label="CSV file"
          accept=".csv,text/csv"
          leftSection={<IconFileUpload size={16} />}
          value={file}
          onChange={(f) => {
            setFile(f);
            setReport(null);
          }}
          clearable
        />
        <Group justify="flex-end">
          <Button variant="default" disabled={!file} loading={run.isPending && run.variables} onClick={() => run.mutate(true)}>
            Validate (dry run)
          </Button>
          <Button disabled={!file} loading={run.isPending && !run.variables} onClick={() => run.mutate(false)}>
            Import
          </Button>
        </Group>
        {report && <ImportReportView report={report} />}
      </Stack>
    </Modal>
  );
}

