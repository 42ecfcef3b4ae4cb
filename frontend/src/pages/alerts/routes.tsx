import { IconAdjustments, IconAlertTriangle, IconBellOff } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { AlertDetailPage } from "./AlertDetailPage";
import { AlertsPage } from "./AlertsPage";
import { RuleEditorPage } from "./RuleEditorPage";
import { RulesPage } from "./RulesPage";
import { SilencesPage } from "./SilencesPage";

export const alertsRoutes: AppRoute[] = [
  { path: "alerts", element: <AlertsPage />, audience: "customer", nav: { label: "Alerts", icon: IconAlertTriangle, group: "Respond", order: 10 } },
  { path: "alerts/:alertId", element: <AlertDetailPage />, audience: "customer" },
  { path: "silences", element: <SilencesPage />, audience: "customer", nav: { label: "Silences", icon: IconBellOff, group: "Respond", order: 20 } },
  { path: "rules", element: <RulesPage />, audience: "customer", nav: { label: "Rules", icon: IconAdjustments, group: "Configure", order: 10 } },
  { path: "rules/new", element: <RuleEditorPage />, audience: "customer" },
  { path: "rules/:ruleId", element: <RuleEditorPage />, audience: "customer" },
];
