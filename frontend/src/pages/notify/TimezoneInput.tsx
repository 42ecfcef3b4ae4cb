import { Autocomplete, type AutocompleteProps } from "@mantine/core";

import { timezoneOptions } from "./shared";

/** An IANA time zone, suggested from the browser's list (the API checks the name). */
export function TimezoneInput(props: Omit<AutocompleteProps, "data">) {
  return <Autocomplete data={timezoneOptions()} limit={20} {...props} />;
}
