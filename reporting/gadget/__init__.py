"""The on-wiki gadget: the pages a wiki hosts (build.py), writing them to a wiki (publish.py),
and the ``flask --app app reporting gadget ...`` commands (cli.py).

The gadget's readable source is ``static/gadget/report-privately.js``; its messages are the tool's
own (``i18n/``), embedded by the build because a gadget cannot load anything from the tool.
"""
