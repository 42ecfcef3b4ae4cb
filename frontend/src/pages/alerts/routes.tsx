import type { AppRoute } from "../../routing";

export const alertsRoutes: AppRoute[] = [];
