"""The outlier bank: its on-disk format and the builders that fill it.

:mod:`~mmseg_be.outliers.bank` is the format (reader and crash-safe writer),
:mod:`~mmseg_be.outliers.coco` builds a bank from COCO (the released rule),
:mod:`~mmseg_be.outliers.synthetic` builds a synthetic one (random shapes). The
``PasteOutliers`` transform (:mod:`mmseg_be.datasets.transforms`) reads it.
"""
from .bank import OutlierBank, OutlierBankWriter, crop_to_mask, encode_entry

__all__ = ['OutlierBank', 'OutlierBankWriter', 'crop_to_mask',
           'encode_entry']
