import type { AppRoute } from "../../routing";

export const accountRoutes: AppRoute[] = [];
