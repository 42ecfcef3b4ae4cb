"""Actions plane: channels, routing, the delivery workflow and its retry policy, dead letters and redrive."""
