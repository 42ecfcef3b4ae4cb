import { IconBell, IconCalendarUser, IconStairsUp } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { EscalationPage } from "./escalation/EscalationPage";
import { NotificationsPage } from "./NotificationsPage";
import { OnCallPage } from "./oncall/OnCallPage";
import { SchedulePage } from "./oncall/SchedulePage";

export const notifyRoutes: AppRoute[] = [
  { path: "notifications", element: <NotificationsPage />, audience: "customer", nav: { label: "Notifications", icon: IconBell, group: "Configure", order: 20 } },
  { path: "escalation", element: <EscalationPage />, audience: "customer", nav: { label: "Escalation", icon: IconStairsUp, group: "Respond", order: 30 } },
  { path: "oncall", element: <OnCallPage />, audience: "customer", nav: { label: "On-call", icon: IconCalendarUser, group: "Respond", order: 40 } },
  { path: "oncall/:scheduleId", element: <SchedulePage />, audience: "customer" },
];
