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


def hub_errors() -> tuple[type[BaseException], ...]:
    """What the Hub client raises for a refused request or an unreachable network (httpx under huggingface_hub 1.x);
    OfflineModeIsEnabled is an OSError. Imported only when called: the Hub client is slow to import."""
    import httpx
    from huggingface_hub.errors import HfHubHTTPError

    return HfHubHTTPError, httpx.HTTPError, OSError


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, at most `limit` characters: for messages quoting a server's answer."""
    return " ".join(str(error).split())[:limit]
