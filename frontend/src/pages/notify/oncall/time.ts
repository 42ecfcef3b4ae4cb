import { dayjs } from "../shared";

/** The local date ("YYYY-MM-DD") of an instant in a zone. */
export const localDate = (instant: dayjs.ConfigType, tz: string) => dayjs(instant).tz(tz).format("YYYY-MM-DD");

export const addDays = (date: string, days: number) => dayjs(date).add(days, "day").format("YYYY-MM-DD");

/** Midnight of a local date in a zone, as an instant (DST-safe: built from the wall clock). */
export const midnight = (date: string, tz: string) => dayjs.tz(`${date}T00:00`, tz);

/** The Monday of the week holding `date`. */
export function mondayOf(date: string): string {
  const d = dayjs(date);
  return d.subtract((d.day() + 6) % 7, "day").format("YYYY-MM-DD");
}

export interface Range {
  firstDay: string;
  days: number;
  start: string;
  end: string;
  dayStarts: { date: string; at: number }[];
}

/** `days` whole local days from `firstDay` in `tz`, with each day's start instant (ms). */
export function rangeOf(firstDay: string, days: number, tz: string): Range {
  const dayStarts = Array.from({ length: days + 1 }, (_, i) => {
    const date = addDays(firstDay, i);
    return { date, at: midnight(date, tz).valueOf() };
  });
  return { firstDay, days, start: new Date(dayStarts[0].at).toISOString(), end: new Date(dayStarts[days].at).toISOString(), dayStarts };
}

export function hoursBetween(start: string, end: string): string {
  const h = (dayjs(end).valueOf() - dayjs(start).valueOf()) / 3_600_000;
  return h >= 48 ? `${Math.round(h / 24)} days` : `${Math.round(h * 10) / 10} h`;
}
