import { IconBuilding } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { SitesPage } from "./SitesPage";

export const fleetRoutes: AppRoute[] = [
  { path: "sites", element: <SitesPage />, audience: "customer", nav: { label: "Sites", icon: IconBuilding, group: "Configure", order: 40 } },
];
