import sys

from glia.cli import main

sys.exit(main())
