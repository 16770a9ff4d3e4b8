"""`python -m hookboard ...`: see hookboard.cli.main."""

import sys

from hookboard.cli.main import main

sys.exit(main())
