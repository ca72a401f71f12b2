"""The instructor's tools: never part of what students receive.

- ``cells``: reading and writing notebooks, cell roles (setup, exercise, check, instructor)
- ``release``: ``course release``, the student notebooks from ``solutions/``; ``bundle``: what students receive
- ``execute``: ``course execute``, the solutions run in fresh kernels with their outputs stored
- ``cases``: the catalogue of cases and known mistakes of every graded function, and its builder
- ``grading``: ``course grade``, a class graded in isolated kernels
"""
