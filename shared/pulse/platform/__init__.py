"""Adapters: every AWS, database-server and network call Pulse makes sits behind one of these."""
