"""The demo: the whole method end to end on a CPU, on generated data.

An example that runs from a checkout (``make demo``, ``tools/demo.py``,
``tools/demo_study.py``), beside the library rather than in it, as MMSeg's
``demo/`` and ``projects/`` are:

- :mod:`demo.settings`: sizes and schedules (``FULL``, ``QUICK``, ``STUDY``),
  the demo configs, one colour per method;
- :mod:`demo.scenes`: procedural street scenes and the anomaly split;
- :mod:`demo.objects`: the novel objects of the outlier bank and the test
  anomalies;
- :mod:`demo.stages`: the stages of ``tools/demo.py``; :mod:`demo.cli` its
  command line;
- :mod:`demo.report`: its results table and ``report.md``;
- :mod:`demo.study` and :mod:`demo.study_runner`: the seed study of
  ``tools/demo_study.py`` (statistics; runs); :mod:`demo.study_cli` its
  command line.
"""
