"""casebank: a git-native regression bank and release gate for AI models and agents."""

__version__ = "0.1.0"
