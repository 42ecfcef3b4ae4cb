"""Connectivity: ONLINE / STALE / OFFLINE from last-seen, heartbeat interval and IoT Core presence."""
