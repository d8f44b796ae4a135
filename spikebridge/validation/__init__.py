"""Cross-simulator validation: what is measured, how two samples are compared, verdicts against a seed baseline."""
