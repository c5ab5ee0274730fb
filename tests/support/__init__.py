"""Helpers the tests share: free ports, settings, real servers, and waiting on a condition.

Import them by their full name (``from tests.support.waiting import wait_until``): conftest
modules are not meant to be imported, and a test folder that is not a package cannot be either.
"""
