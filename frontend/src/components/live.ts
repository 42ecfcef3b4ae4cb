/** Pages with live state poll at this interval: they refresh within 5 s without a reload. */
export const LIVE_REFRESH_MS = 4000;
