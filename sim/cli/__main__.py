"""``python -m sim.cli``: the ``flywheel`` command."""

import sys

from sim.cli import main

sys.exit(main())
