"""The model zoo: its entries as data (`registry`), loading and publishing through the Hugging
Face Hub (`hub`: `keras_dae.load` and `keras_dae.publish`), the files of a packaged model
(`archives`) and its model card (`cards`).

This package imports nothing itself, so that reading the registry (`keras-dae list`) imports
no framework.
"""
