"""Who is calling: JWT verification against the Cognito pool's JWKS, principals and roles."""
