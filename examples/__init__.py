"""Examples of juzhang (示例), installed as the package ``juzhang.examples``.

* ``demo_data.py`` — the demo agency's data: three communities and a quarter
  of their activity, made by code (``juzhang demo`` plays it);
* ``demo_agency.py`` — prints a month of that data and writes the files the
  agency receives;
* ``worked_example.py`` — one community's month through the Python API.

The folder is mapped onto ``juzhang.examples`` in ``pyproject.toml``, so the
installed ``juzhang demo`` finds its data without a source checkout.
"""
