import type { AppRoute } from "../../routing";

export const notifyRoutes: AppRoute[] = [];
