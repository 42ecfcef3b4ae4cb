import { IconBuilding } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { DevicePage } from "./DevicePage";
import { SitesPage } from "./SitesPage";

export const fleetRoutes: AppRoute[] = [
  { path: "devices/:deviceId", element: <DevicePage />, audience: "customer" },
  { path: "sites", element: <SitesPage />, audience: "customer", nav: { label: "Sites", icon: IconBuilding, group: "Configure", order: 40 } },
];
