"""Analyses on top of stored scores: correlations with covariates, calibration against labels, plain
similarity baselines and `evaluate`, covariates, the `analyze` report and the authors' CSV export."""
