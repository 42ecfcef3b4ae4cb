"""`make bench`: performance budgets measured side by side with a baseline on the same machine."""
