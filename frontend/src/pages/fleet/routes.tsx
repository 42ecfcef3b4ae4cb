import { IconBuilding, IconDevices, IconLayoutDashboard } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { DashboardPage } from "./DashboardPage";
import { DevicePage } from "./DevicePage";
import { FleetPage } from "./FleetPage";
import { SitesPage } from "./SitesPage";

export const fleetRoutes: AppRoute[] = [
  { path: "dashboard", element: <DashboardPage />, audience: "customer", nav: { label: "Dashboard", icon: IconLayoutDashboard, group: "Monitor", order: 10 } },
  { path: "fleet", element: <FleetPage />, audience: "customer", nav: { label: "Fleet", icon: IconDevices, group: "Monitor", order: 20 } },
  { path: "devices/:deviceId", element: <DevicePage />, audience: "customer" },
  { path: "sites", element: <SitesPage />, audience: "customer", nav: { label: "Sites", icon: IconBuilding, group: "Configure", order: 40 } },
];
