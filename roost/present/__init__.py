"""Shapes for what services loaded (Mastodon entities): the API, web pages and streams."""
