"""The CPU fast path: cheap dropout masks, eager attention, memory settings, the precision."""
