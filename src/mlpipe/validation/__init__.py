"""Data validation: learned and declared schemas, every failure of a batch at
once, as a pipeline step; and one-off data-quality and leakage checks."""

from mlpipe.validation._quality import (
    DataQualityReport,
    Finding,
    check_data_quality,
    check_leakage,
)
from mlpipe.validation._report import Failure, ValidationReport
from mlpipe.validation._schema import Column, Schema
from mlpipe.validation._validator import SchemaValidator

__all__ = [
    "Column",
    "DataQualityReport",
    "Failure",
    "Finding",
    "Schema",
    "SchemaValidator",
    "ValidationReport",
    "check_data_quality",
    "check_leakage",
]
