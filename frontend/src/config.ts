/** Runtime configuration: written next to index.html by the deployment (CDK on AWS, the launcher locally). */
export interface AuthConfig {
  clientId: string;
  userPoolId: string;
  region: string;
  authority: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint: string;
  logoutEndpoint: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scope: string;
  /** Which Cognito token the API's JWT authorizer accepts. */
  tokenUse?: "id" | "access";
}

export interface RuntimeConfig {
  stage: string;
  apiBaseUrl: string;
  auth: AuthConfig;
}

export class ConfigError extends Error {}

const REQUIRED_AUTH: (keyof AuthConfig)[] = [
  "clientId",
  "authority",
  "authorizationEndpoint",
  "tokenEndpoint",
  "redirectUri",
];

export function parseConfig(raw: unknown): RuntimeConfig {
  if (typeof raw !== "object" || raw === null) throw new ConfigError("config.json is not a JSON object");
  const config = raw as Partial<RuntimeConfig>;
  if (typeof config.apiBaseUrl !== "string") throw new ConfigError("config.json: apiBaseUrl is missing");
  if (typeof config.auth !== "object" || config.auth === null) throw new ConfigError("config.json: auth is missing");
  for (const key of REQUIRED_AUTH) {
    if (typeof config.auth[key] !== "string" || !config.auth[key]) {
      throw new ConfigError(`config.json: auth.${key} is missing`);
    }
  }
  return {
    stage: config.stage ?? "unknown",
    apiBaseUrl: config.apiBaseUrl.replace(/\/$/, ""),
    auth: { ...config.auth, scope: config.auth.scope || "openid email profile", tokenUse: config.auth.tokenUse ?? "id" } as AuthConfig,
  };
}

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<RuntimeConfig> {
  const response = await fetcher("/config.json", { cache: "no-store" });
  if (!response.ok) throw new ConfigError(`config.json could not be loaded (HTTP ${response.status})`);
  return parseConfig(await response.json());
}
