"""The evaluation stage: the lighteval task and its variants, the judge, the lighteval fixes and the models.

Never imports `sources`, `construction` or `report`: it reads the built dataset folder only.
"""
