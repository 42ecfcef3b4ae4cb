import { createContext, useContext } from "react";

/** TV mode (NOC page, F key) hides the header and navigation. */
export interface Chrome {
  hidden: boolean;
  setHidden(hidden: boolean): void;
}

export const ChromeContext = createContext<Chrome>({ hidden: false, setHidden: () => undefined });

export function useChrome(): Chrome {
  return useContext(ChromeContext);
}
