import { IconAlertTriangle } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { AlertDetailPage } from "./AlertDetailPage";
import { AlertsPage } from "./AlertsPage";

export const alertsRoutes: AppRoute[] = [
  { path: "alerts", element: <AlertsPage />, audience: "customer", nav: { label: "Alerts", icon: IconAlertTriangle, group: "Respond", order: 10 } },
  { path: "alerts/:alertId", element: <AlertDetailPage />, audience: "customer" },
];
