"""`python -m chat_server.terminal`: the terminal client, as the `taskchat` script runs it."""

import sys

from chat_server.terminal.cli import main

sys.exit(main())
