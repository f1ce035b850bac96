"""The project's own exceptions: each message names the file and says what was expected."""


class SpineBenchError(Exception):
    """Base class of every error this package raises on purpose."""


class SourceFormatError(SpineBenchError):
    """A path given for a source is not that source (or not a readable archive)."""


class ImageError(SpineBenchError):
    """One image cannot be decoded or standardized; the build records it as a skip."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
