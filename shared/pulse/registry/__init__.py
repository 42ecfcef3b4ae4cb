"""Registry plane: tenants, plans and subscriptions, sites, devices, provisioning, bulk import."""
