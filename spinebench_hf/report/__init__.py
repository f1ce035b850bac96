"""Reports: per-sample details -> scored questions -> tables, intervals, plots, robustness, ratings, encoders.

Never imports `sources`, `build` or `evaluation`: it reads lighteval's output files only.
"""
