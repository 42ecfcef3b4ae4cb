"""Rules: the rule model and the deterministic evaluator shared by the ingest and scheduled paths."""
