"""On-call schedules: layers with priorities and rotations in local time, overrides, shift swaps, the
final schedule ("who is on call"), coverage gaps raised as alerts, and an iCal feed per schedule."""
