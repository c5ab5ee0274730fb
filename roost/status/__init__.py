"""The status blog: a separate process that probes Roost, writes incidents, serves the truth."""
