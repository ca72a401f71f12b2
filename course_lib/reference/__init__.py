"""The reference implementation of every graded function, one module per notebook.

========== ================================================== ====================
notebook   graded functions                                    module
========== ================================================== ====================
01         numerical_gradient, gradient_descent                ``descent``
02         ewma, sgd ... adam, the four schedules              ``optim``
03         xavier, he                                          ``init``
04         batchnorm_ and layernorm_forward, _backward         ``batchnorm``
05         l2_penalty, dropout_forward, dropout_backward       ``regularization``
06         train_val_split ... successive_halving              ``search``
08         transfer_params                                     ``transfer``
========== ================================================== ====================

In what students receive, every function here only raises, until the instructor reveals a
notebook's references (``course release --bundle DIR --reveal 02``, after its deadline). While a
notebook is graded they are blocked the same way. The course's own demos never call them: they
run on the student's functions.
"""

MODULES = {"01": "descent", "02": "optim", "03": "init", "04": "batchnorm", "05": "regularization", "06": "search",
           "08": "transfer"}
"""Notebook number -> the module of its references."""
