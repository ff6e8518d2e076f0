"""lambdad's runtime client for the python3.x family: the entry point.

lambdad starts it as `python3.X /var/runtime/bootstrap.py`. The client itself
is _lambdad_runtime.py beside this file: a module, so that its compiled form
is read from __pycache__ (compile it ahead with
`python3.X -m compileall -q runtimes/python`) instead of being compiled at
every start, as a script is. It is imported before /var/task joins sys.path,
so a function's own module of the same name cannot shadow it.
"""

from _lambdad_runtime import main

main()
