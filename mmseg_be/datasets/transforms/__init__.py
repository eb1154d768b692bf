"""Data transforms, registered in MMSeg's TRANSFORMS."""
from .outlier_bank import OutlierBank, OutlierBankWriter, encode_entry
from .paste_outliers import RELEASED_PASTE_PROB, PasteOutliers

__all__ = ['OutlierBank', 'OutlierBankWriter', 'encode_entry',
           'PasteOutliers', 'RELEASED_PASTE_PROB']
