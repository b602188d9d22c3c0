"""Errors caused by the user's input: the CLI prints them as one clear message, no traceback."""


class UserError(Exception):
    """Bad input: a file, row or field that is missing or wrong. The message names it."""
