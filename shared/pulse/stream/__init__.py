"""Stream plane: telemetry store, batch writer, rollups, retention, query and export."""
