"""Sub-commands of the ``sardip`` CLI, one module each (see :mod:`sardip.cli`)."""
