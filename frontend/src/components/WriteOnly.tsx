import type { ReactNode } from "react";

import { useSession } from "../auth/SessionProvider";

/** Renders write controls only for roles that may write: a viewer never sees them. */
export function WriteOnly({ children }: { children: ReactNode }) {
  const { canWrite } = useSession();
  return canWrite ? <>{children}</> : null;
}
