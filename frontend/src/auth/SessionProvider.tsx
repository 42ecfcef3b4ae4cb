import { Button, Center, Loader, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { User, UserManager } from "oidc-client-ts";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useNavigate } from "react-router-dom";

import { createApiClient, unwrap, type ApiClient } from "../api/client";
import { errorMessage } from "../api/errors";
import type { RuntimeConfig } from "../config";
import { canWrite, isOperator, type Principal, type Role } from "./roles";
import { bearerToken, cognitoLogoutUrl, createUserManager } from "./session";

export interface Session {
  config: RuntimeConfig;
  api: ApiClient;
  principal: Principal;
  role: Role;
  canWrite: boolean;
  isOperator: boolean;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

export function useApi(): ApiClient {
  return useSession().api;
}

const RETURN_TO_KEY = "pulse.returnTo";

// A code can be redeemed once; React's StrictMode runs effects twice in development.
let pendingCallback: Promise<User> | null = null;

/** Signs the user in (hosted UI, PKCE), handles /auth/callback, then loads /me for role and tenant. */
export function SessionProvider({ config, children, manager }: { config: RuntimeConfig; children: ReactNode; manager?: UserManager }) {
  const users = useMemo(() => manager ?? createUserManager(config.auth), [config, manager]);
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [authError, setAuthError] = useState<string | null>(null);
  const redirecting = useRef(false);
  const navigate = useNavigate();

  const signIn = useCallback(async () => {
    if (redirecting.current) return;
    redirecting.current = true;
    sessionStorage.setItem(RETURN_TO_KEY, window.location.pathname + window.location.search);
    await users.signinRedirect();
  }, [users]);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        if (window.location.pathname === "/auth/callback") {
          pendingCallback ??= users.signinRedirectCallback();
          const signedIn = await pendingCallback;
          const back = sessionStorage.getItem(RETURN_TO_KEY) || "/";
          sessionStorage.removeItem(RETURN_TO_KEY);
          // Through the router, so the page the user asked for is the one that renders.
          navigate(back.startsWith("/auth/") ? "/" : back, { replace: true });
          if (!cancelled) setUser(signedIn);
          return;
        }
        const stored = await users.getUser();
        if (stored && !stored.expired) {
          if (!cancelled) setUser(stored);
          return;
        }
        if (stored?.refresh_token) {
          try {
            const renewed = await users.signinSilent();
            if (!cancelled) setUser(renewed);
            return;
          } catch {
            await users.removeUser();
          }
        }
        if (!cancelled) setUser(null);
      } catch (error) {
        if (!cancelled) setAuthError(errorMessage(error));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [users, navigate]);

  useEffect(() => {
    if (user === null) void signIn();
  }, [user, signIn]);

  const api = useMemo(
    () =>
      createApiClient(config.apiBaseUrl, {
        async token() {
          const current = await users.getUser();
          if (current && current.expired && current.refresh_token) {
            try {
              const renewed = await users.signinSilent();
              return bearerToken(renewed, config.auth.tokenUse);
            } catch {
              return null;
            }
          }
          return bearerToken(current, config.auth.tokenUse);
        },
        onUnauthorized() {
          void users.removeUser().then(() => setUser(null));
        },
      }),
    [config, users],
  );

  const me = useQuery({
    queryKey: ["me", user?.profile.sub],
    queryFn: () => unwrap(api.GET("/api/v1/me")) as Promise<Principal>,
    enabled: !!user,
    staleTime: 5 * 60_000,
  });

  const signOut = useCallback(async () => {
    await users.removeUser();
    window.location.assign(cognitoLogoutUrl(config.auth));
  }, [users, config]);

  if (authError) {
    return (
      <Center h="100vh">
        <Stack align="center">
          <Title order={3}>Sign-in failed</Title>
          <Text c="red" role="alert">{authError}</Text>
          <Button onClick={() => { setAuthError(null); void users.removeUser().then(() => setUser(null)); }}>Sign in again</Button>
        </Stack>
      </Center>
    );
  }
  if (me.isError) {
    return (
      <Center h="100vh">
        <Stack align="center">
          <Title order={3}>Your account could not be loaded</Title>
          <Text c="red" role="alert">{errorMessage(me.error)}</Text>
          <Button onClick={() => void me.refetch()}>Retry</Button>
        </Stack>
      </Center>
    );
  }
  if (!user || !me.data) {
    return (
      <Center h="100vh">
        <Loader aria-label="Signing in" />
      </Center>
    );
  }
  const principal = me.data;
  const session: Session = {
    config,
    api,
    principal,
    role: principal.role,
    canWrite: canWrite(principal.role),
    isOperator: isOperator(principal.role),
    signOut,
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** For component tests: a session without sign-in. */
export function TestSessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
