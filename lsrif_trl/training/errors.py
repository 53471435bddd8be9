"""The error every recipe check raises: the scripts print it and exit 2 before any model loads."""


class RecipeError(ValueError):
    """A recipe that cannot run as written; the message names the file, the key and the fix."""
