import type { AppRoute } from "../../routing";

export const operatorRoutes: AppRoute[] = [];
