"""Device twin (ARCHITECTURE §5): AWS Device Shadow semantics plus conditional updates, revision
history, auto-clear of satisfied desired keys and a convergence deadline."""
