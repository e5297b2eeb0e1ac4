import sys

from busyconf.cli import main

sys.exit(main())
