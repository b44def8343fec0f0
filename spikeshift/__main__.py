import sys

from .gen.cli.main import main

sys.exit(main())
