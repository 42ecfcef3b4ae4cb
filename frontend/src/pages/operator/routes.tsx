import { IconBuildingCommunity, IconDeviceDesktopAnalytics, IconFileSearch, IconListSearch, IconReceipt2, IconShieldX } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { DeviceSearchPage } from "./DeviceSearchPage";
import { NocPage } from "./NocPage";
import { OperatorAuditPage } from "./OperatorAuditPage";
import { QuarantinePage } from "./QuarantinePage";
import { SubscriptionsPage } from "./SubscriptionsPage";
import { TenantsPage } from "./TenantsPage";

export const operatorRoutes: AppRoute[] = [
  { path: "noc", element: <NocPage />, audience: "operator", nav: { label: "NOC", icon: IconDeviceDesktopAnalytics, group: "Operations", order: 10 } },
  { path: "operator/quarantine", element: <QuarantinePage />, audience: "operator", nav: { label: "Quarantine", icon: IconShieldX, group: "Operations", order: 20 } },
  { path: "operator/audit", element: <OperatorAuditPage />, audience: "operator", nav: { label: "Operator audit", icon: IconFileSearch, group: "Operations", order: 30 } },
  { path: "operator/tenants", element: <TenantsPage />, audience: "operator", nav: { label: "Tenants", icon: IconBuildingCommunity, group: "Tenants", order: 10 } },
  { path: "operator/devices", element: <DeviceSearchPage />, audience: "operator", nav: { label: "Device search", icon: IconListSearch, group: "Tenants", order: 20 } },
  { path: "operator/subscriptions", element: <SubscriptionsPage />, audience: "operator", nav: { label: "Subscriptions", icon: IconReceipt2, group: "Tenants", order: 30 } },
];
