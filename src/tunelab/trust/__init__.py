"""Outputs people can trust: calibrated confidence (`calibration`), an abstain threshold
(`abstain`), error bars and paired comparisons (`bootstrap`)."""
