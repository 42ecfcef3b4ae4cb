import { IconBell, IconCalendarUser, IconStairsUp, IconUsers } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { EscalationPage } from "./escalation/EscalationPage";
import { NotificationsPage } from "./NotificationsPage";
import { OnCallPage } from "./oncall/OnCallPage";
import { SchedulePage } from "./oncall/SchedulePage";
import { UserPage } from "./users/UserPage";
import { UsersPage } from "./users/UsersPage";

export const notifyRoutes: AppRoute[] = [
  { path: "notifications", element: <NotificationsPage />, audience: "customer", nav: { label: "Notifications", icon: IconBell, group: "Configure", order: 20 } },
  { path: "escalation", element: <EscalationPage />, audience: "customer", nav: { label: "Escalation", icon: IconStairsUp, group: "Respond", order: 30 } },
  { path: "oncall", element: <OnCallPage />, audience: "customer", nav: { label: "On-call", icon: IconCalendarUser, group: "Respond", order: 40 } },
  { path: "oncall/:scheduleId", element: <SchedulePage />, audience: "customer" },
  { path: "users", element: <UsersPage />, audience: "customer", nav: { label: "Users", icon: IconUsers, group: "Account", order: 10 } },
  { path: "users/:username", element: <UserPage />, audience: "customer" },
];
