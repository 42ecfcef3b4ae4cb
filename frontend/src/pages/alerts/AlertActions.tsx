import { Button, Group, Modal, Select, Stack, Text, Textarea, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { FormActions } from "../../components/actions";
import { showWriteError } from "../../components/forms";
import { ProblemAlert } from "../../components/QueryState";
import { allows, type AlertAction, type AlertDetail } from "./model";

type ActionBody = { note?: string; until?: string; assignee?: string | null };
type Dialog = "snooze" | "assign" | "comment" | "resolve" | null;

const SNOOZE_CHOICES = [
  { value: "15", label: "15 minutes" },
  { value: "60", label: "1 hour" },
  { value: "240", label: "4 hours" },
  { value: "720", label: "12 hours" },
  { value: "1440", label: "1 day" },
  { value: "4320", label: "3 days" },
  { value: "10080", label: "7 days (the longest)" },
];

/** One POST /alerts/{id}/<action>; the answer is the alert afterwards. */
function useAlertAction(alert: AlertDetail, onError: (error: unknown) => void) {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ action, body }: { action: AlertAction; body: ActionBody }) => {
      const path = { alert_id: alert.id };
      switch (action) {
        case "snooze":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/snooze", { params: { path }, body: { until: body.until!, note: body.note ?? "" } }));
        case "assign":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/assign", { params: { path }, body: { assignee: body.assignee ?? null, note: body.note ?? "" } }));
        case "comment":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/comment", { params: { path }, body: { note: body.note ?? "" } }));
        case "acknowledge":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/acknowledge", { params: { path }, body: { note: body.note ?? "" } }));
        case "unacknowledge":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/unacknowledge", { params: { path }, body: { note: body.note ?? "" } }));
        case "resolve":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/resolve", { params: { path }, body: { note: body.note ?? "" } }));
        case "close":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/close", { params: { path }, body: { note: body.note ?? "" } }));
        case "reopen":
          return unwrap(api.POST("/api/v1/alerts/{alert_id}/reopen", { params: { path }, body: { note: body.note ?? "" } }));
      }
    },
    onSuccess: (updated, { action }) => {
      client.setQueryData(["alert", alert.id], updated);
      void client.invalidateQueries({ queryKey: ["alert", alert.id] });
      void client.invalidateQueries({ queryKey: ["alerts"] });
      notifications.show({ color: "green", title: "Done", message: `${action} — the alert is now ${updated.state}` });
    },
    onError,
  });
}

function NoteForm({ label, required, submit, pending, onCancel, children, form }: {
  label: string;
  required?: boolean;
  submit: string;
  pending: boolean;
  onCancel: () => void;
  children?: ReactNode;
  form: ReturnType<typeof useForm<{ note: string; minutes: string; assignee: string | null }>>;
}) {
  return (
    <Stack>
      {children}
      <Textarea label={label} withAsterisk={required} autosize minRows={3} maxLength={2000} data-autofocus={!children || undefined} {...form.getInputProps("note")} />
      <FormActions onCancel={onCancel} submitLabel={submit} loading={pending} />
    </Stack>
  );
}

function Assignees({ form }: { form: ReturnType<typeof useForm<{ note: string; minutes: string; assignee: string | null }>> }) {
  const api = useApi();
  const users = useQuery({
    queryKey: ["users", "choices"],
    queryFn: () => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
  if (users.isError) return <ProblemAlert error={users.error} title="The user list could not be loaded" onRetry={() => void users.refetch()} />;
  const data = (users.data?.items ?? []).filter((u) => u.enabled).map((u) => ({ value: u.username, label: u.email === u.username ? u.email : `${u.email} (${u.username})` }));
  const current = form.values.assignee;
  if (current && !data.some((d) => d.value === current)) data.unshift({ value: current, label: current });
  return (
    <Select
      label="Assignee"
      placeholder={users.isPending ? "Loading users…" : "Pick a user"}
      data={data}
      searchable
      clearable
      nothingFoundMessage="No such user"
      description="Clear the field to unassign."
      data-autofocus
      {...form.getInputProps("assignee")}
    />
  );
}

/** Acknowledge, Snooze, Assign, Comment, Resolve (plus Unacknowledge, Reopen, Close where the state allows). */
export function AlertActions({ alert }: { alert: AlertDetail }) {
  const [dialog, setDialog] = useState<Dialog>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const form = useForm<{ note: string; minutes: string; assignee: string | null }>({
    initialValues: { note: "", minutes: "60", assignee: alert.assignee },
  });
  const act = useAlertAction(alert, (error) => {
    if (dialog) showWriteError(error, form);
    else setFailure(error);
  });
  const open = (which: Dialog) => {
    setFailure(null);
    form.setValues({ note: "", minutes: "60", assignee: alert.assignee });
    form.clearErrors();
    setDialog(which);
  };
  const run = (action: AlertAction, body: ActionBody = {}) => {
    setFailure(null);
    act.mutate({ action, body }, { onSuccess: () => setDialog(null) });
  };
  const can = (action: AlertAction) => allows(alert.state, action);
  const button = (label: string, action: AlertAction, onClick: () => void, color?: string) => (
    <Tooltip label={`Not possible while the alert is ${alert.state}`} disabled={can(action)}>
      <Button variant={color ? "filled" : "light"} color={color} disabled={!can(action) || act.isPending} onClick={onClick}>
        {label}
      </Button>
    </Tooltip>
  );
  const confirmClose = () =>
    modals.openConfirmModal({
      title: "Close this alert?",
      children: <Text size="sm">A closed alert is done with: it stays closed even if the condition clears or fires again.</Text>,
      labels: { confirm: "Close alert", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => run("close"),
    });

  return (
    <Stack gap="sm">
      <Group gap="xs" wrap="wrap">
        {button("Acknowledge", "acknowledge", () => run("acknowledge"), "blue")}
        {button("Snooze", "snooze", () => open("snooze"))}
        {button("Assign", "assign", () => open("assign"))}
        {button("Comment", "comment", () => open("comment"))}
        {button("Resolve", "resolve", () => open("resolve"), "green")}
        {can("unacknowledge") && (
          <Button variant="default" disabled={act.isPending} onClick={() => run("unacknowledge")}>
            Unacknowledge
          </Button>
        )}
        {can("reopen") && (
          <Button variant="default" disabled={act.isPending} onClick={() => run("reopen")}>
            Reopen
          </Button>
        )}
        {can("close") && (
          <Button variant="subtle" color="red" disabled={act.isPending} onClick={confirmClose}>
            Close
          </Button>
        )}
      </Group>
      {failure !== null && <ProblemAlert error={failure} title="The action failed" />}
      <Modal opened={dialog !== null} onClose={() => setDialog(null)} title={dialog ? `${dialog[0].toUpperCase()}${dialog.slice(1)} alert` : ""}>
        <form
          onSubmit={form.onSubmit((values) => {
            if (dialog === "snooze") run("snooze", { note: values.note, until: new Date(Date.now() + Number(values.minutes) * 60_000).toISOString() });
            if (dialog === "assign") run("assign", { note: values.note, assignee: values.assignee || null });
            if (dialog === "comment") {
              if (values.note.trim()) run("comment", { note: values.note });
              else form.setFieldError("note", "write a comment");
            }
            if (dialog === "resolve") run("resolve", { note: values.note });
          })}
        >
          {dialog === "snooze" && (
            <NoteForm label="Note" submit="Snooze alert" pending={act.isPending} onCancel={() => setDialog(null)} form={form}>
              <Select label="Snooze for" data={SNOOZE_CHOICES} allowDeselect={false} data-autofocus {...form.getInputProps("minutes")} error={form.errors.minutes ?? form.errors.until} />
            </NoteForm>
          )}
          {dialog === "assign" && (
            <NoteForm label="Note" submit={form.values.assignee ? "Save assignee" : "Unassign"} pending={act.isPending} onCancel={() => setDialog(null)} form={form}>
              <Assignees form={form} />
            </NoteForm>
          )}
          {dialog === "comment" && <NoteForm label="Comment" required submit="Add comment" pending={act.isPending} onCancel={() => setDialog(null)} form={form} />}
          {dialog === "resolve" && (
            <NoteForm label="Note" submit="Resolve alert" pending={act.isPending} onCancel={() => setDialog(null)} form={form}>
              <Text size="sm">Resolving ends this episode; if the condition fires again a new alert opens.</Text>
            </NoteForm>
          )}
        </form>
      </Modal>
    </Stack>
  );
}
