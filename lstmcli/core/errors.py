"""Error types. Core code raises these; only ``cli.py`` turns them into a message and exit code."""

from __future__ import annotations

EXIT_RUNTIME = 1
EXIT_USAGE = 2


class LstmcliError(Exception):
    """Base class: a problem the user can act on, reported as one line."""

    exit_code = EXIT_RUNTIME


class UsageError(LstmcliError):
    """A flag or value that is not allowed (exit code 2)."""

    exit_code = EXIT_USAGE


class DataError(LstmcliError):
    """Input data that cannot be read or used (exit code 1)."""


class ModelFileError(LstmcliError):
    """A model file that is missing, corrupt or refused as unsafe (exit code 1)."""


class DownloadError(LstmcliError):
    """A download that failed or did not verify (exit code 1)."""


class LstmcliWarning(UserWarning):
    """Work goes on, but the user should know (a damaged cache entry that was rebuilt, a
    cache that cannot be written). Core code calls ``warnings.warn(message, LstmcliWarning)``;
    the CLI shows each distinct message once, as one line on stderr."""


class DeviceError(LstmcliError):
    """A device or a cluster of workers that cannot be used as asked (exit code 1)."""
