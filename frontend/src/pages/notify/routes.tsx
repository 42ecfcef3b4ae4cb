import { IconBell } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { NotificationsPage } from "./NotificationsPage";

export const notifyRoutes: AppRoute[] = [
  { path: "notifications", element: <NotificationsPage />, audience: "customer", nav: { label: "Notifications", icon: IconBell, group: "Configure", order: 20 } },
];
