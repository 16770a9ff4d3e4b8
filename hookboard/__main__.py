"""`python -m hookboard ...`: see hookboard.cli."""

import sys

from hookboard.cli import main

sys.exit(main())
