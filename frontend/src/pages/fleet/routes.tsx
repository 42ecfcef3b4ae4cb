import { IconBuilding, IconLayoutDashboard } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { DashboardPage } from "./DashboardPage";
import { DevicePage } from "./DevicePage";
import { SitesPage } from "./SitesPage";

export const fleetRoutes: AppRoute[] = [
  { path: "dashboard", element: <DashboardPage />, audience: "customer", nav: { label: "Dashboard", icon: IconLayoutDashboard, group: "Monitor", order: 10 } },
  { path: "devices/:deviceId", element: <DevicePage />, audience: "customer" },
  { path: "sites", element: <SitesPage />, audience: "customer", nav: { label: "Sites", icon: IconBuilding, group: "Configure", order: 40 } },
];
