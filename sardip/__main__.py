"""``python -m sardip``: the sardip command line (:mod:`sardip.cli`)."""

import sys

from sardip.cli import main

sys.exit(main())
