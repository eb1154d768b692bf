"""Label values shared by every layer (transforms, losses, metrics, export).

``OUTLIER_LABEL`` marks pasted-outlier pixels in training labels and anomaly
pixels after benchmark labels are mapped (see ``docs/datasets.md``);
``IGNORE_INDEX`` is MMSeg's ignore value.
"""
OUTLIER_LABEL = 254
IGNORE_INDEX = 255
