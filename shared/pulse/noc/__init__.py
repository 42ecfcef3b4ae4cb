"""The operator console and the NOC: fleet measures across tenants, the platform event feed, the
quarantine, subscriptions, service health. Read as ``pulse_operator``; the tenant dashboard reads the
same measures for one tenant as ``pulse_app``."""
