import { configure, fireEvent } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

// These pages render big Mantine forms; on a loaded CI machine the first render can take over a second.
configure({ asyncUtilTimeout: 4000 });

/** One user per test file, without per-keystroke delays (keeps the files fast). */
export const user = userEvent.setup({ delay: null });

/** Replace an input's text in one event (typing each character re-renders the whole form). */
export async function fill(input: HTMLElement, value: string): Promise<void> {
  fireEvent.change(input, { target: { value } });
  await Promise.resolve();
}

/** The Request objects the fake API received (headers included). */
export function requests(fetcher: typeof fetch): Request[] {
  return (fetcher as unknown as { mock: { calls: [Request][] } }).mock.calls.map(([r]) => r);
}
