"""The shield: Roost's defence against floods (issue 7). Start at ``layer.py`` and ``protocol.py``;
docs/shield.md describes the whole and its failure policies."""
