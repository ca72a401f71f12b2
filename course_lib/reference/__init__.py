"""The reference implementation of every graded function, one module per notebook.

========== ================================================== ====================
notebook   graded functions                                    module
========== ================================================== ====================
01         numerical_gradient, gradient_descent                ``descent``
02         ewma, sgd, sgd_momentum, nesterov                   ``momentum``
03         adagrad, rmsprop, adam, adamw                       ``adaptive``
04         the five schedules, clip_by_global_norm             ``schedules``
05         xavier, he                                          ``init``
06         batchnorm_ and layernorm_forward, _backward         ``batchnorm``
07         l2_penalty, dropout_forward, dropout_backward       ``regularization``
08         transfer_params                                     ``transfer``
09         train_val_split ... successive_halving              ``search``
========== ================================================== ====================

In what students receive, every function here only raises, until the instructor reveals a
notebook's references (``course release --bundle DIR --reveal 02``, after its deadline). While a
notebook is graded they are blocked the same way. The course's own demos never call them: they
run on the student's functions.

``adaptive`` builds on ``momentum`` (the contract's checks and the EWMA step), so notebook 03's
references can only be revealed with notebook 02's (``--reveal 02,03``).
"""

MODULES = {"01": "descent", "02": "momentum", "03": "adaptive", "04": "schedules", "05": "init",
           "06": "batchnorm", "07": "regularization", "08": "transfer",
           "09": "search"}
"""Notebook number -> the module of its references."""
