import { ActionIcon, Anchor, Badge, Button, Switch, Table, Tabs, Text, Tooltip } from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi, useSession } from "../../auth/SessionProvider";
import { SeverityBadge } from "../../components/badges";
import { showWriteError } from "../../components/forms";
import { formatTime, timeAgo } from "../../components/format";
import { PageHeader } from "../../components/PageHeader";
import { Pager, usePagedQuery } from "../../components/paging";
import { EmptyState, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { MetricCatalog } from "./MetricCatalog";
import type { RuleView } from "./model";

function RulesList() {
  const api = useApi();
  const { canWrite } = useSession();
  const client = useQueryClient();
  const paged = usePagedQuery(["rules", "list"], (cursor) => unwrap(api.GET("/api/v1/rules", { params: { query: { cursor, limit: 50 } } })));
  const toggle = useMutation({
    mutationFn: ({ rule, enabled }: { rule: RuleView; enabled: boolean }) =>
      enabled
        ? unwrap(api.POST("/api/v1/rules/{rule_id}:enable", { params: { path: { rule_id: rule.id } } }))
        : unwrap(api.POST("/api/v1/rules/{rule_id}:disable", { params: { path: { rule_id: rule.id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["rules"] }),
    onError: (error) => showWriteError(error),
  });
  const remove = useMutation({
    mutationFn: (rule: RuleView) => unwrap(api.DELETE("/api/v1/rules/{rule_id}", { params: { path: { rule_id: rule.id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["rules"] }),
    onError: (error) => showWriteError(error),
  });
  const confirmDisable = (rule: RuleView) =>
    modals.openConfirmModal({
      title: `Disable ${rule.rule.name}?`,
      children: "The rule stops evaluating and its active alerts resolve. Enabling it again starts from a fresh state.",
      labels: { confirm: "Disable", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => toggle.mutate({ rule, enabled: false }),
    });
  const confirmDelete = (rule: RuleView) =>
    modals.openConfirmModal({
      title: `Delete ${rule.rule.name}?`,
      children: "Its active alerts resolve. The id stays taken and its versions stay readable for alert history.",
      labels: { confirm: "Delete", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => remove.mutate(rule),
    });

  return (
    <>
      <QueryState query={paged.query} isEmpty={(page) => page.items.length === 0} empty={<EmptyState title="No rules yet">Create a rule to open alerts from device telemetry.</EmptyState>}>
        {(page) => (
          <Table.ScrollContainer minWidth={760}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Rule</Table.Th>
                  <Table.Th>Severity</Table.Th>
                  <Table.Th>Condition</Table.Th>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Updated</Table.Th>
                  <Table.Th>Enabled</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/rules/${encodeURIComponent(r.id)}`} fw={500}>
                        {r.rule.name}
                      </Anchor>
                      <Text size="xs" c="dimmed">
                        {r.id}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <SeverityBadge severity={r.rule.severity} />
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="outline" color="gray">
                        {r.rule.condition.kind.replace(/_/g, " ")}
                      </Badge>
                    </Table.Td>
                    <Table.Td>v{r.current_version}</Table.Td>
                    <Table.Td>
                      <Tooltip label={formatTime(r.updated_at)}>
                        <Text size="sm">{timeAgo(r.updated_at)}</Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      {canWrite ? (
                        <Switch
                          aria-label={`Enabled: ${r.rule.name}`}
                          checked={r.enabled}
                          disabled={toggle.isPending}
                          onChange={(e) => (e.currentTarget.checked ? toggle.mutate({ rule: r, enabled: true }) : confirmDisable(r))}
                        />
                      ) : (
                        <Badge variant="light" color={r.enabled ? "green" : "gray"}>
                          {r.enabled ? "enabled" : "disabled"}
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <WriteOnly>
                        <Tooltip label="Delete">
                          <ActionIcon variant="subtle" color="red" aria-label={`Delete ${r.rule.name}`} onClick={() => confirmDelete(r)}>
                            <IconTrash size={16} />
                          </ActionIcon>
                        </Tooltip>
                      </WriteOnly>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
    </>
  );
}

export function RulesPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get("tab") === "metrics" ? "metrics" : "rules";
  return (
    <>
      <PageHeader
        title="Rules"
        description="Conditions on telemetry and twin that open alerts; each save is a new version."
        actions={
          <WriteOnly>
            <Button component={Link} to="/rules/new" leftSection={<IconPlus size={16} />}>
              New rule
            </Button>
          </WriteOnly>
        }
      />
      <Tabs value={tab} onChange={(v) => setParams(v === "metrics" ? { tab: "metrics" } : {}, { replace: true })}>
        <Tabs.List mb="md">
          <Tabs.Tab value="rules">Rules</Tabs.Tab>
          <Tabs.Tab value="metrics">Metric catalog</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="rules">{tab === "rules" && <RulesList />}</Tabs.Panel>
        <Tabs.Panel value="metrics">{tab === "metrics" && <MetricCatalog />}</Tabs.Panel>
      </Tabs>
    </>
  );
}
