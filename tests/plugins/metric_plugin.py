"""A group metric written outside the package, in one file: the negative predictive
value, a ratio of confusion-matrix counts like every built-in metric."""

import deepaudit as da


@da.register_metric("npv", label="Negative predictive value")
def npv(tp, fp, fn, tn):
    return tn / (tn + fn)
