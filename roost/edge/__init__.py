"""The edge: HAProxy in front of the site, the first line of defence (issue 11).

The shield decides, the edge enforces. ``render`` writes HAProxy's configuration, its maps and its
pages from the settings; ``runtime`` speaks HAProxy's runtime API, through which the shield
(``roost.shield.edge``) changes the maps live; ``process`` finds, checks and runs HAProxy.
"""
