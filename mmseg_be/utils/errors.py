"""The error of an explicit setting that cannot take effect."""


class SettingsError(ValueError):
    """A setting that would be ignored, overridden or only half applied.

    Raised instead of a warning, so a run never reports numbers for
    something other than what was asked for; the message names the setting,
    what conflicts with it, and the fix. The tools exit with status 2.
    """
