"""Commands to devices: send, acknowledge, expire, cancel (State plane)."""
