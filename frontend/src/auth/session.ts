import { User, UserManager, WebStorageStateStore } from "oidc-client-ts";

import type { AuthConfig } from "../config";

/** Cognito hosted UI, authorization code + PKCE. Endpoints are explicit: Cognito's issuer does not
 * serve the hosted-UI endpoints in its discovery document, and the local target differs by host only. */
export function createUserManager(auth: AuthConfig, storage: Storage = window.sessionStorage): UserManager {
  return new UserManager({
    authority: auth.authority,
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    post_logout_redirect_uri: auth.postLogoutRedirectUri,
    response_type: "code",
    scope: auth.scope,
    loadUserInfo: false,
    automaticSilentRenew: false,
    userStore: new WebStorageStateStore({ store: storage }),
    stateStore: new WebStorageStateStore({ store: storage }),
    metadata: {
      issuer: auth.authority,
      authorization_endpoint: auth.authorizationEndpoint,
      token_endpoint: auth.tokenEndpoint,
      userinfo_endpoint: auth.userinfoEndpoint,
      end_session_endpoint: auth.logoutEndpoint,
    },
  });
}

export function bearerToken(user: User | null, tokenUse: "id" | "access" = "id"): string | null {
  if (!user || user.expired) return null;
  return (tokenUse === "id" ? user.id_token : user.access_token) ?? null;
}

/** Cognito's /logout takes client_id and logout_uri rather than the OIDC end-session parameters. */
export function cognitoLogoutUrl(auth: AuthConfig): string {
  const url = new URL(auth.logoutEndpoint);
  url.searchParams.set("client_id", auth.clientId);
  url.searchParams.set("logout_uri", auth.postLogoutRedirectUri);
  return url.toString();
}
