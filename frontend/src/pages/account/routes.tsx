import { IconHistory, IconReceipt } from "@tabler/icons-react";

import type { AppRoute } from "../../routing";
import { AuditPage } from "./AuditPage";
import { SubscriptionPage } from "./SubscriptionPage";

export const accountRoutes: AppRoute[] = [
  { path: "audit", element: <AuditPage />, audience: "customer", nav: { label: "Audit log", icon: IconHistory, group: "Account", order: 20 } },
  { path: "subscription", element: <SubscriptionPage />, audience: "customer", nav: { label: "Subscription", icon: IconReceipt, group: "Account", order: 30 } },
];
