"""`python -m taskchat_cli`: the terminal client, as the `taskchat` script runs it."""

import sys

from taskchat_cli.cli import main

sys.exit(main())
