"""Roost: a micro-blogging service that stays up while a botnet tries to take it down."""

__version__ = "0.1.0"
