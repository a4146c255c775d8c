"""taskapi: the task API that trusts nothing but a verified JWT."""

__version__ = "0.1.0"
