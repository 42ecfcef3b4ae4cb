"""The portal's tenant views: the dashboard and saved fleet filters."""
