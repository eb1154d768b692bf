"""The demo: the whole method end to end on a CPU, on generated data.

- :mod:`~mmseg_be.demo.settings`: sizes and schedules (``FULL``, ``QUICK``,
  ``STUDY``) and the demo configs;
- :mod:`~mmseg_be.demo.scenes`: procedural street scenes and the anomaly
  split (the outlier bank comes from :mod:`mmseg_be.outliers.synthetic`);
- :mod:`~mmseg_be.demo.stages`: the stages of ``tools/demo.py``;
- :mod:`~mmseg_be.demo.report`: its results table and ``report.md``;
- :mod:`~mmseg_be.demo.study` and :mod:`~mmseg_be.demo.study_runner`: the
  seed study of ``tools/demo_study.py`` (statistics; runs);
- :mod:`~mmseg_be.demo.toy_data`: a tiny rectangle dataset for smoke runs
  and tests.
"""
