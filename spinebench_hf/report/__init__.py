"""Reports: per-sample details -> scored questions -> tables, intervals, plots, robustness, ratings, encoders.

Never imports `sources`, `construction` or `evaluation`: it reads the harnesses' output files and built
dataset folders only.
"""
