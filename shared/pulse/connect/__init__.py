"""Connect plane: topics, Envelope v1, device authentication, validation, quarantine."""
