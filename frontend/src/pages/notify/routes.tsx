import { IconBell, IconStairsUp } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { EscalationPage } from "./escalation/EscalationPage";
import { NotificationsPage } from "./NotificationsPage";

export const notifyRoutes: AppRoute[] = [
  { path: "notifications", element: <NotificationsPage />, audience: "customer", nav: { label: "Notifications", icon: IconBell, group: "Configure", order: 20 } },
  { path: "escalation", element: <EscalationPage />, audience: "customer", nav: { label: "Escalation", icon: IconStairsUp, group: "Respond", order: 30 } },
];
