import sys

from bridge.frontends.cli.main import main

sys.exit(main())
