import { notifications } from "@mantine/notifications";
import { configure, fireEvent } from "@testing-library/react";
import userEvent, { PointerEventsCheckLevel } from "@testing-library/user-event";
import { afterEach, vi } from "vitest";

// These pages render big Mantine forms; on a loaded CI machine the first render can take over a second.
configure({ asyncUtilTimeout: 4000 });
// Unloaded, each test here takes 0.3-2 s; with other suites sharing two cores a modal form flow can take 5+ s.
vi.setConfig({ testTimeout: 15_000 });

// Mantine keeps toasts in a module-level store: one test's "Saved" must not show up in the next.
afterEach(() => {
  notifications.clean();
  notifications.cleanQueue();
});

/** One user per test file, without per-keystroke delays (keeps the files fast). */
export const user = userEvent.setup({ delay: null, pointerEventsCheck: PointerEventsCheckLevel.Never, skipHover: true });

/** Replace an input's text in one event (typing each character re-renders the whole form). */
export async function fill(input: HTMLElement, value: string): Promise<void> {
  fireEvent.change(input, { target: { value } });
  await Promise.resolve();
}

/** The Request objects the fake API received (headers included). */
export function requests(fetcher: typeof fetch): Request[] {
  return (fetcher as unknown as { mock: { calls: [Request][] } }).mock.calls.map(([r]) => r);
}
