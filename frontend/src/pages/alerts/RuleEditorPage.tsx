import { Alert, Anchor, Button, Checkbox, Group, List, Paper, Stack, Text, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { ApiError, type FieldError } from "../../api/errors";
import { useApi, useSession } from "../../auth/SessionProvider";
import { showSaved } from "../../components/forms";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert, QueryState } from "../../components/QueryState";
import { WriteOnly } from "../../components/WriteOnly";
import { BacktestPanel } from "./BacktestPanel";
import { ConditionBuilder, type BuilderContext } from "./ConditionBuilder";
import type { EditorNode } from "./conditions";
import type { RuleView } from "./model";
import { RuleBasics, RuleSchedule, RuleScope } from "./RuleFields";
import { emptyRule, fromRule, placeErrors, toDraft, type RuleDoc, type RuleEditorState, type RuleFormValues } from "./ruleForm";
import { RuleVersions } from "./RuleVersions";

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The same object while the errors are the same, so typing in one field does not redraw the condition tree. */
function useStable<T extends Record<string, unknown>>(value: T): T {
  const ref = useRef(value);
  const prev = ref.current;
  const same = Object.keys(prev).length === Object.keys(value).length && Object.keys(value).every((k) => prev[k] === value[k]);
  if (!same) ref.current = value;
  return ref.current;
}

function RuleEditor({ initial, view }: { initial: RuleEditorState; view: RuleView | null }) {
  const api = useApi();
  const { canWrite } = useSession();
  const client = useQueryClient();
  const navigate = useNavigate();
  const isNew = view === null;
  const form = useForm<RuleFormValues>({
    initialValues: initial.values,
    validate: {
      id: (v) => (!isNew || ID_PATTERN.test(v.trim()) ? null : "letters, digits and _ . : - only, starting with a letter or digit"),
      name: (v) => (v.trim() ? null : "a rule needs a name"),
    },
  });
  const [condition, setCondition] = useState<EditorNode>(initial.condition);
  const [clear, setClear] = useState<EditorNode>(initial.clear);
  const [unmatched, setUnmatched] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const metrics = useQuery({ queryKey: ["metrics"], queryFn: () => unwrap(api.GET("/api/v1/metrics")), staleTime: 60_000 });
  const current = (): RuleEditorState => ({ values: form.values, condition, clear });
  // the latest form and state for callbacks that stay the same between renders (memoised children)
  const latest = useRef({ form, state: current() });
  latest.current = { form, state: current() };
  const errors = useStable(form.errors);
  const metricNames = useMemo(() => (metrics.data ?? []).map((m) => m.name), [metrics.data]);
  const clearError = useCallback((key: string) => {
    const f = latest.current.form;
    if (f.errors[key] !== undefined) f.clearFieldError(key);
  }, []);
  const ctx: BuilderContext = useMemo(() => ({ errors, clearError, metrics: metricNames, readOnly: !canWrite }), [errors, clearError, metricNames, canWrite]);
  const draft = useCallback(() => ({ ...toDraft(latest.current.state), id: "" }), []);
  const placeBacktestErrors = useCallback((fieldErrors: FieldError[]): FieldError[] => {
    const { form: f, state } = latest.current;
    const placed = placeErrors(fieldErrors, state, "rule.");
    f.setErrors({ ...f.errors, ...placed.fields });
    return placed.unmatched;
  }, []);

  const save = useMutation({
    mutationFn: (state: RuleEditorState) => {
      const doc = toDraft(state);
      return isNew
        ? unwrap(api.POST("/api/v1/rules", { body: doc }))
        : unwrap(api.PUT("/api/v1/rules/{rule_id}", { params: { path: { rule_id: view.id }, header: { "If-Match": `"${view.current_version}"` } }, body: doc }));
    },
    onMutate: () => {
      setUnmatched([]);
      setFailure(null);
    },
    onSuccess: (saved) => {
      showSaved(isNew ? `rule ${saved.rule.name} created` : `rule ${saved.rule.name}: version ${saved.current_version}`);
      client.setQueryData(["rule", saved.id], saved);
      void client.invalidateQueries({ queryKey: ["rules"] });
      void client.invalidateQueries({ queryKey: ["rule", saved.id] });
      if (isNew) navigate(`/rules/${encodeURIComponent(saved.id)}`, { replace: true });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.fieldErrors.length > 0) {
        form.clearErrors();
        const placed = placeErrors(error.fieldErrors, current());
        form.setErrors(placed.fields);
        setUnmatched(placed.unmatched);
      } else setFailure(error);
    },
  });
  const load = useCallback((rule: RuleDoc) => {
    const f = latest.current.form;
    const state = fromRule(rule, f.values.enabled);
    f.setValues({ ...state.values, id: f.values.id });
    f.clearErrors();
    setCondition(state.condition);
    setClear(state.clear);
    notifications.show({ title: "Loaded", message: `version ${rule.version} is in the editor; save to make it the current version` });
  }, []);
  const errorCount = Object.keys(form.errors).length;

  return (
    <Stack gap="md">
      {(unmatched.length > 0 || (errorCount > 0 && save.isError)) && (
        <Alert color="red" title="The rule was not saved" role="alert">
          {unmatched.length > 0 ? (
            <List size="sm">
              {unmatched.map((e, i) => (
                <List.Item key={i}>
                  {e.field}: {e.message}
                </List.Item>
              ))}
            </List>
          ) : (
            <Text size="sm">Fix the fields marked in red.</Text>
          )}
        </Alert>
      )}
      {failure !== null && <ProblemAlert error={failure} title="The rule was not saved" />}
      <form onSubmit={form.onSubmit(() => save.mutate(current()))}>
        <fieldset disabled={!canWrite} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
          <Stack gap="md">
            <RuleBasics form={form} isNew={isNew} />
            <RuleScope form={form} />
            <Paper withBorder p="md" component="section" aria-labelledby="rule-condition-heading">
              <Title order={4} id="rule-condition-heading" mb="xs">
                Fires when
              </Title>
              <ConditionBuilder node={condition} path="condition" onChange={setCondition} ctx={ctx} label="Condition" />
            </Paper>
            <Paper withBorder p="md" component="section" aria-labelledby="rule-clear-heading">
              <Group justify="space-between" mb="xs">
                <Title order={4} id="rule-clear-heading">
                  Resolves when
                </Title>
                <Checkbox label="Use a separate clear condition" {...form.getInputProps("useClear", { type: "checkbox" })} />
              </Group>
              {form.values.useClear ? (
                <ConditionBuilder node={clear} path="clear" onChange={setClear} ctx={ctx} label="Clear" />
              ) : (
                <Text size="sm" c="dimmed">
                  The alert resolves when the condition, widened by each comparison's hysteresis, is false.
                </Text>
              )}
            </Paper>
            <RuleSchedule form={form} />
            <WriteOnly>
              <Group justify="flex-end">
                <Button variant="default" component={Link} to="/rules">
                  Cancel
                </Button>
                <Button type="submit" loading={save.isPending}>
                  {isNew ? "Create rule" : "Save new version"}
                </Button>
              </Group>
            </WriteOnly>
          </Stack>
        </fieldset>
      </form>
      <BacktestPanel draft={draft} placeRuleErrors={placeBacktestErrors} />
      {view && <RuleVersions ruleId={view.id} current={view.current_version} onLoad={load} />}
    </Stack>
  );
}

export function RuleEditorPage() {
  const { ruleId } = useParams();
  const api = useApi();
  const query = useQuery({
    queryKey: ["rule", ruleId],
    queryFn: () => unwrap(api.GET("/api/v1/rules/{rule_id}", { params: { path: { rule_id: ruleId! } } })),
    enabled: !!ruleId,
  });
  const back = (
    <Anchor component={Link} to="/rules" size="sm">
      ← All rules
    </Anchor>
  );
  if (!ruleId) {
    return (
      <>
        <PageHeader title="New rule" description={back} />
        <RuleEditor initial={emptyRule()} view={null} />
      </>
    );
  }
  return (
    <>
      <PageHeader title={query.data ? `Rule ${query.data.rule.name}` : "Rule"} description={query.data ? <>{back} · version {query.data.current_version}{query.data.enabled ? "" : " · disabled"}</> : back} />
      <QueryState query={query}>{(view) => <RuleEditor key={`${view.id}@${view.current_version}`} initial={fromRule(view.rule, view.enabled)} view={view} />}</QueryState>
    </>
  );
}
