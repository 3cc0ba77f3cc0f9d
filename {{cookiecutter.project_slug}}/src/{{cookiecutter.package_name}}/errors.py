"""Errors a user can cause; each message says what to do next.

The CLI maps them to exit codes: 2 for input that is wrong (a setting, an
argument, a data file), 3 when the gate refuses a model, 1 for anything else
that stopped the pipeline.
"""


class PipelineError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero."""


class SettingsError(PipelineError, ValueError):
    """A configuration value that cannot be used."""


class DataValidationError(PipelineError, ValueError):
    """Input data with no usable rows, or missing what every row needs."""


class ChampionNotFoundError(PipelineError):
    """No model version carries the champion alias yet."""


class UsageError(PipelineError, ValueError):
    """A command-line argument that cannot be used."""


class PromotionRejectedError(PipelineError):
    """The gate refused a model: registered but not promoted, or not registered at all."""


class LabelsDisagreeError(PromotionRejectedError):
    """The new training labels contradict the reference set; nothing was registered."""


class ModelEnvironmentError(PipelineError):
    """The model was trained with library versions this environment does not match."""


class TrackingServerUnavailableError(PipelineError):
    """The MLflow tracking server did not answer; a retry can succeed once it is back."""
