import type { AppRoute } from "../routing";
import { alertsRoutes } from "./alerts/routes";
import { fleetRoutes } from "./fleet/routes";
import { notifyRoutes } from "./notify/routes";
import { operatorRoutes } from "./operator/routes";
import { accountRoutes } from "./account/routes";

/** Every page of the app, by area. Each area owns its folder and its routes file. */
export const allRoutes: AppRoute[] = [...fleetRoutes, ...alertsRoutes, ...notifyRoutes, ...accountRoutes, ...operatorRoutes];
