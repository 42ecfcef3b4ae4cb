import { Anchor, Badge, Button, Group, Modal, Select, Stack, Table, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { IconUserPlus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";

import { unwrap } from "../../../api/client";
import { ROLE_LABELS } from "../../../auth/roles";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { FormActions } from "../../../components/actions";
import { showSaved, showWriteError } from "../../../components/forms";
import { formatTime } from "../../../components/format";
import { PageHeader } from "../../../components/PageHeader";
import { Pager, usePagedQuery } from "../../../components/paging";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { showFormError } from "../problems";
import type { TenantUser } from "../shared";
import { PersonSettings } from "./PersonSettings";

type TenantRole = TenantUser["role"];
const ROLES: { value: TenantRole; label: string }[] = [
  { value: "customer_viewer", label: ROLE_LABELS.customer_viewer },
  { value: "customer_admin", label: ROLE_LABELS.customer_admin },
];

function InviteUser({ onClose }: { onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const form = useForm({
    initialValues: { email: "", role: "customer_viewer" as TenantRole },
    validate: { email: (v) => (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v.trim()) ? null : "an email address, e.g. ana@example.com") },
  });
  const invite = useMutation({
    mutationFn: (v: typeof form.values) => unwrap(api.POST("/api/v1/users", { body: { email: v.email.trim(), role: v.role } })),
    onSuccess: (created) => {
      showSaved(`${created.email} is invited; they get an email with a temporary password`);
      void client.invalidateQueries({ queryKey: ["users"] });
      onClose();
    },
    onError: (error) => showFormError(error, form),
  });
  return (
    <form onSubmit={form.onSubmit((v) => invite.mutate(v))}>
      <Stack>
        <TextInput label="Email" type="email" required data-autofocus {...form.getInputProps("email")} />
        <Select label="Role" data={ROLES} allowDeselect={false} {...form.getInputProps("role")} />
        <FormActions onCancel={onClose} submitLabel="Invite" loading={invite.isPending} />
      </Stack>
    </form>
  );
}

/** Tenant administrators: the tenant's users (invite, role, disable/enable). */
function UserAdmin() {
  const api = useApi();
  const client = useQueryClient();
  const { principal } = useSession();
  const [inviting, setInviting] = useState(false);
  const paged = usePagedQuery(["users"], (cursor) => unwrap(api.GET("/api/v1/users", { params: { query: { cursor, limit: 50 } } })));
  const change = useMutation({
    mutationFn: ({ u, action, role }: { u: TenantUser; action: "role" | "disable" | "enable"; role?: TenantRole }) =>
      action === "role"
        ? unwrap(api.PATCH("/api/v1/users/{username}", { params: { path: { username: u.username } }, body: { role: role! } }))
        : action === "disable"
          ? unwrap(api.POST("/api/v1/users/{username}/disable", { params: { path: { username: u.username } } }))
          : unwrap(api.POST("/api/v1/users/{username}/enable", { params: { path: { username: u.username } } })),
    onSuccess: (saved) => {
      showSaved(`${saved.email}: ${ROLE_LABELS[saved.role]}, ${saved.enabled ? "enabled" : "disabled"}`);
      void client.invalidateQueries({ queryKey: ["users"] });
    },
    onError: (error) => {
      showWriteError(error);
      void client.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const confirmDisable = (u: TenantUser) =>
    modals.openConfirmModal({
      title: `Disable ${u.email}?`,
      children: "They can no longer sign in. Escalation steps and rotations still name them until you change those.",
      labels: { confirm: "Disable", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => change.mutate({ u, action: "disable" }),
    });
  return (
    <>
      <PageHeader
        title="Users"
        description="People of your organisation, their roles, and how each is paged."
        actions={
          <Button leftSection={<IconUserPlus size={16} />} onClick={() => setInviting(true)}>
            Invite user
          </Button>
        }
      />
      <QueryState query={paged.query} isEmpty={(p) => p.items.length === 0} empty={<EmptyState title="No users" />}>
        {(page) => (
          <Table.ScrollContainer minWidth={720}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>User</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((u) => (
                  <Table.Tr key={u.username} data-testid="user-row">
                    <Table.Td>
                      <Anchor component={Link} to={`/users/${encodeURIComponent(u.username)}`}>
                        {u.email}
                      </Anchor>
                      {u.username === principal.username && <Badge ml="xs" variant="light">you</Badge>}
                    </Table.Td>
                    <Table.Td>
                      <Select
                        aria-label={`Role of ${u.email}`}
                        data={ROLES}
                        value={u.role}
                        allowDeselect={false}
                        w={160}
                        size="xs"
                        onChange={(role) => role && role !== u.role && change.mutate({ u, action: "role", role: role as TenantRole })}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {u.enabled ? <Badge color="green" variant="light">enabled</Badge> : <Badge color="gray" variant="light">disabled</Badge>}
                        {u.status === "FORCE_CHANGE_PASSWORD" && <Badge color="yellow" variant="light">invited</Badge>}
                      </Group>
                    </Table.Td>
                    <Table.Td>{formatTime(u.created_at)}</Table.Td>
                    <Table.Td>
                      <Group justify="flex-end">
                        {u.enabled ? (
                          <Button size="xs" variant="default" color="red" onClick={() => confirmDisable(u)} aria-label={`Disable ${u.email}`}>
                            Disable
                          </Button>
                        ) : (
                          <Button size="xs" variant="default" onClick={() => change.mutate({ u, action: "enable" })} aria-label={`Enable ${u.email}`}>
                            Enable
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Pager paged={paged} />
      <Modal opened={inviting} onClose={() => setInviting(false)} title="Invite a user">
        {inviting && <InviteUser onClose={() => setInviting(false)} />}
      </Modal>
    </>
  );
}

/**
 * Administrators manage the tenant's users; everyone else may only manage how they themselves are
 * paged (the API lets a person keep their own contact methods and policy), so a viewer sees that.
 */
export function UsersPage() {
  const { canWrite, principal } = useSession();
  if (canWrite) return <UserAdmin />;
  return (
    <>
      <PageHeader title="Users" description={`Only administrators manage users. These are your own notification settings (${principal.email ?? principal.username}).`} />
      <PersonSettings username="me" />
    </>
  );
}
