"""The flood lab (`roost siege`): a bounded loopback botnet and real users; see docs/siege.md."""
