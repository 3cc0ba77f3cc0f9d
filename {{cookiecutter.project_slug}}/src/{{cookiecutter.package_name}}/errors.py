"""Errors a user can cause; each message says what to do next."""


class PipelineError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero."""


class SettingsError(PipelineError, ValueError):
    """A configuration value that cannot be used."""


class DataValidationError(PipelineError, ValueError):
    """Input data with no usable rows, or missing what every row needs."""


class ChampionNotFoundError(PipelineError):
    """No model version carries the champion alias yet."""


class PromotionRejectedError(PipelineError):
    """A model was registered but did not pass the promotion gate."""


class ModelEnvironmentError(PipelineError):
    """The model was trained with library versions this environment does not match."""


class TrackingServerUnavailableError(PipelineError):
    """The MLflow tracking server did not answer; a retry can succeed once it is back."""
