"""The bank: case files, their schema, loading and validation.

``load_config`` reads casebank.yaml, ``load_bank`` loads every case of the project (or some
files), ``parse_case`` one case from bytes (e.g. a file at a base commit).
"""

from casebank.bank.config import Config, load_config
from casebank.bank.limits import Limits
from casebank.bank.load import Bank, load_bank, parse_case

__all__ = ["Bank", "Config", "Limits", "load_bank", "load_config", "parse_case"]
